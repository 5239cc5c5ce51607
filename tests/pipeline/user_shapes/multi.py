import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score


def load_data():
    return pd.read_csv("diabetes.csv")


def engineer_features(df, target):
    X = df.drop(columns=[target])
    X["bmi_bp"] = X["bmi"] * X["bp"]
    return X, df[target]


def build_model():
    return Ridge(alpha=10.0)


if __name__ == "__main__":
    X, y = engineer_features(load_data(), "target")
    print(-cross_val_score(build_model(), X, y, cv=5,
                           scoring="neg_root_mean_squared_error").mean())
