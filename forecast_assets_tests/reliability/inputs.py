"""A second version of the sample input, for tests that need the models to change."""


def revised(unified):
    """Coffee's 2022 spring and summer prices revised 5% up: naive (and every model) trains differently."""
    df = unified.copy()
    rows = (df["commodity"] == "Coffee") & df["date"].between("2022-03-01", "2022-08-31")
    df.loc[rows, ["open", "high", "low", "close"]] *= 1.05
    return df
