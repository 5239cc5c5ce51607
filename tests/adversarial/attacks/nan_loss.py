# attack: a training loss that blows up
# expect: diverged/divergence
import harness

harness.log_loss(0, 2.5)
harness.log_loss(1, float("inf"))
harness.evaluate(None, context=2)
