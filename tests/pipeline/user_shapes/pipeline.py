import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

df = pd.read_csv("wine.csv")
X = df.drop(columns=["target"])
y = df["target"]
pipe = make_pipeline(StandardScaler(), LogisticRegression(C=0.01))
print(cross_val_score(pipe, X, y, cv=5).mean())
