import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def load_data():
    return pd.read_csv("wine.csv")


def engineer_features(df):
    return df.drop(columns=["target"]), df["target"]


def build_model(n_estimators, max_depth):
    return RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth)
