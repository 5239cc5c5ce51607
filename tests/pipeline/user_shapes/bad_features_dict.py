import pandas as pd
from sklearn.linear_model import LogisticRegression


def load_data():
    return pd.read_csv("wine.csv")


def engineer_features(df):
    return {"X": df.drop(columns=["target"]), "y": df["target"]}


def build_model():
    return LogisticRegression()
