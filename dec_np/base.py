"""The scikit-learn estimator contract, without scikit-learn at run time.

:class:`BaseEstimator` gives ``get_params`` / ``set_params``, a ``__repr__`` that shows the
parameters that differ from their defaults, and ``__sklearn_tags__`` (built only when
scikit-learn is importable, i.e. when scikit-learn itself asks).  :func:`validate_data` is
the gate estimator input passes: dense, 2-D, real, finite, of the width seen in ``fit``.
"""
from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any, Callable

import numpy as np

from .utils import check_array


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit``.

    Both a ValueError and an AttributeError, like ``sklearn.exceptions.NotFittedError``, so
    code that catches either sees it.  Where scikit-learn is in use (imported), the error
    raised is also a ``sklearn.exceptions.NotFittedError`` (see :func:`not_fitted`).
    """


def not_fitted(message: str) -> NotFittedError:
    """A :class:`NotFittedError` to raise; also scikit-learn's one if scikit-learn is imported.

    scikit-learn is never imported here: without it nobody can catch its class.

    Parameters
    ----------
    message : str
        The error's message.

    Returns
    -------
    NotFittedError
        The exception, to be raised by the caller.
    """
    if "sklearn.exceptions" in sys.modules:
        return sys.modules[__name__]._SklearnNotFittedError(message)
    return NotFittedError(message)


def __getattr__(name: str) -> Any:
    # built on first use, as a module attribute so that its instances pickle by name
    if name == "_SklearnNotFittedError":
        from sklearn.exceptions import NotFittedError as SklearnNotFittedError
        cls = type(name, (NotFittedError, SklearnNotFittedError),
                   {"__module__": __name__, "__doc__": NotFittedError.__doc__})
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_default(value: Any, default: Any) -> bool:
    """True if ``value`` is the parameter's default: the same object, or the same type with the
    same repr (so 1 and 1.0, or a list and a tuple, count as changed; arrays always do)."""
    if value is default:
        return True
    if isinstance(value, np.ndarray) or type(value) is not type(default):
        return False
    return repr(value) == repr(default)


def format_params(obj: Any, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    """``Name(a=1, b='x')`` with only the entries of ``params`` that differ from ``defaults``.

    Parameters
    ----------
    obj : object
        The estimator; its class name opens the string.
    params : dict
        Parameter name -> value, in the order to show.
    defaults : dict
        Parameter name -> default; parameters without one are always shown.

    Returns
    -------
    str
        The repr.
    """
    shown = ", ".join(f"{k}={v!r}" for k, v in params.items()
                      if k not in defaults or not _is_default(v, defaults[k]))
    return f"{type(obj).__name__}({shown})"


class BaseEstimator:
    """Parameters, repr and tags of a scikit-learn estimator.

    A subclass's ``__init__`` stores each keyword argument under its own name and nothing
    else; ``fit`` sets the attributes that end in ``_``.  Then ``sklearn.base.clone``,
    pipelines, grid searches and ``check_estimator`` work with it.
    """

    #: what scikit-learn's ``is_clusterer`` and friends read (also on versions before 1.6)
    _estimator_type: str | None = None

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The keyword arguments of ``__init__``, in the order of its signature."""
        sig = inspect.signature(cls.__init__)
        names = []
        for p in list(sig.parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must not take *args or **kwargs")
            names.append(p.name)
        return names

    def _defaults(self) -> dict[str, Any]:
        sig = inspect.signature(type(self).__init__)
        return {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters by name.

        Parameters
        ----------
        deep : bool, default True
            Also list ``<name>__<key>`` for parameters that have ``get_params`` themselves.

        Returns
        -------
        dict
            Parameter name -> value, the very objects stored (not copies).
        """
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            out[name] = value
        return out

    def set_params(self, **params: Any) -> BaseEstimator:
        """Set parameters by name (``<name>__<key>`` reaches into a nested estimator).

        Values are only stored; they are checked by ``fit``.

        Parameters
        ----------
        **params
            New values by parameter name.

        Returns
        -------
        self
            The estimator itself.

        Raises
        ------
        ValueError
            For a name that is not a parameter.
        """
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; "
                                 f"valid parameters: {valid}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        return format_params(self, self.get_params(deep=False), self._defaults())

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's tags (it calls this; scikit-learn is imported only here).

        Dense 2-D real input without NaN, no sparse matrices, ``y`` not required; a
        transformer's output stays float32 for float32 input.
        """
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags
        transformer = TransformerTags(preserves_dtype=["float32"]) if hasattr(self, "transform") else None
        return Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=False),
                    transformer_tags=transformer, input_tags=InputTags(sparse=False))


class ClusterMixin:
    """``fit_predict`` and ``fit_transform`` for an estimator whose ``fit`` sets ``labels_``,
    and the unfitted check of its inference methods."""

    # what the estimator itself defines (declared for type checkers only)
    fit: Callable[..., Any]
    transform: Callable[..., Any]

    def fit_predict(self, X: Any, y: Any = None) -> Any:
        """``fit(X, y)``, then return ``labels_``, shape (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to cluster.
        y : array-like of shape (n_samples,), optional
            Passed on to ``fit`` (only recorded there, never trained on).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The cluster of every row of X.
        """
        return self.fit(X, y).labels_

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X, y)``, then return ``transform(X)``, shape (n_samples, z_dim).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data to cluster.
        y : array-like of shape (n_samples,), optional
            Passed on to ``fit`` (only recorded there, never trained on).

        Returns
        -------
        z : ndarray of shape (n_samples, z_dim)
            The embedding of X after fitting.
        """
        return self.fit(X, y).transform(X)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "labels_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "labels_"):
            raise not_fitted(f"this {type(self).__name__} instance is not fitted yet; call "
                             "fit(X) first")


def _is_sparse(X: Any) -> bool:
    """A SciPy sparse matrix or array (or a CuPy one), detected without importing SciPy."""
    for mod in ("scipy.sparse", "cupyx.scipy.sparse"):
        sparse = sys.modules.get(mod)
        if sparse is not None and sparse.issparse(X):
            return True
    return False


def feature_names(X: Any) -> np.ndarray | None:
    """The column names of a DataFrame (anything with ``columns``), if all are strings.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        A pandas (or other) DataFrame, or an array.

    Returns
    -------
    names : ndarray of shape (n_features,), dtype object, or None
        None for an array, or for columns that are not strings (e.g. a DataFrame's default
        integer columns), as in scikit-learn.

    Raises
    ------
    TypeError
        For columns that mix strings with other types.
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = np.asarray(list(columns), dtype=object)
    is_str = [isinstance(name, str) for name in names]
    if names.size and all(is_str):
        return names
    if any(is_str):
        kinds = sorted({type(name).__name__ for name in names})
        raise TypeError(f"Feature names are only supported if all input features have string "
                        f"names, but your input has {kinds} as feature name / column name "
                        "types; convert them all to str, e.g. X.columns = X.columns.astype(str)")
    return None


def check_feature_names(estimator: Any, X: Any, reset: bool) -> None:
    """Record (``reset``, in ``fit``) or check the column names of X, as scikit-learn does.

    ``fit`` sets ``feature_names_in_`` from a DataFrame with string columns (and deletes
    it otherwise); later calls raise for other names, and warn when X has names and the
    model was fitted without, or the other way round.

    Parameters
    ----------
    estimator : BaseEstimator
        The model; ``feature_names_in_`` is read or written on it.
    X : array-like of shape (n_samples, n_features)
        The input, before it is turned into an array.
    reset : bool
        True in ``fit``.

    Raises
    ------
    ValueError
        If the names differ from those seen in ``fit``.
    """
    names = feature_names(X)
    owner = type(estimator).__name__
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None and names is None:
        return
    if names is None:
        warnings.warn(f"X does not have valid feature names, but {owner} was fitted with "
                      "feature names", UserWarning, stacklevel=3)
    elif fitted is None:
        warnings.warn(f"X has feature names, but {owner} was fitted without feature names",
                      UserWarning, stacklevel=3)
    elif len(names) != len(fitted) or (names != fitted).any():
        unseen = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        detail = (f"; new: {unseen[:5]}" if unseen else "") + \
            (f"; missing: {missing[:5]}" if missing else "")
        raise ValueError("The feature names should match those that were passed during fit"
                         + (detail or "; they are in another order"))


def validate_data(X: Any, n_features: int | None = None, owner: str = "the model") -> Any:
    """Check estimator input before any work and return it as an array.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        A NumPy or CuPy array, or anything :func:`numpy.asarray` turns into a real one
        (lists, ``object`` arrays of numbers, DataFrames).
    n_features : int, optional
        The width X must have (``n_features_in_`` of a fitted model); None in ``fit``.
    owner : str
        Who expects that width, for the error message (the estimator's class name).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The checked data, on the device it came from.

    Raises
    ------
    TypeError
        For sparse input (it is never densified behind the user's back).
    ValueError
        For everything else that is wrong: not 2-D, no rows or no columns, the wrong
        width, not real numbers, NaN or inf (:func:`dec_np.utils.check_array`).
    """
    if _is_sparse(X):
        raise TypeError(f"{owner} needs dense data but a sparse {type(X).__name__} was passed; "
                        "convert it with X.toarray() if it fits in memory")
    if not (isinstance(X, np.ndarray) or type(X).__module__.startswith("cupy")):
        X = np.asarray(X)
    if X.dtype == object:
        X = X.astype(np.float64)  # numbers stored as objects; anything else: numpy's TypeError
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {X.dtype}; {owner} needs "
                         "real numbers")
    if X.ndim == 1:
        raise ValueError(f"Expected a 2-D array, got a 1-D array of shape {X.shape}: Reshape "
                         "your data with X.reshape(-1, 1) if it has a single feature or "
                         "X.reshape(1, -1) if it is a single sample")
    if X.ndim == 2 and X.shape[0] > 0 and X.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
                         "of 1 is required.")
    if X.ndim == 2 and n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, but {owner} is expecting {n_features} "
                         "features as input")
    return check_array(X)
