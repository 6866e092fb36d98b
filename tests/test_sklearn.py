"""DEC as a scikit-learn estimator: parameters, repr, errors, tags, clone, Pipeline,
GridSearchCV and scikit-learn's own ``check_estimator`` (scikit-learn is a test dependency
only: the package itself never imports it)."""
import subprocess
import sys

import numpy as np
import pytest

from dec_np import DEC, StackedAutoencoder
from dec_np.base import NotFittedError
from dec_np.metrics import cluster_accuracy

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError as SklearnNotFittedError  # noqa: E402

#: a schedule small enough for scikit-learn's checks: Adam end to end, 20 steps
TINY = {"model": {"p_drop": 0.0, "init_std": "glorot", "loss_reduction": "mean"},
        "input_scaling": "max", "layerwise": None,
        "finetune": {"iterations": 20, "batch_size": 16, "lr": 1e-2, "optimizer": "adam"}}


def tiny_dec(**kw):
    return DEC(**{"n_clusters": 2, "hidden_dims": (4, 2), "schedule": TINY, "n_init": 1,
                  "max_iter": 20, "update_interval": 10, "batch_size": 16, **kw})


def small_dec(**kw):
    """Long enough to cluster three clear blobs."""
    schedule = dict(TINY, finetune=dict(TINY["finetune"], iterations=200))
    return tiny_dec(**{"n_clusters": 3, "hidden_dims": (16, 2), "schedule": schedule,
                       "n_init": 5, "max_iter": 100, "random_state": 0, **kw})


def blobs(n=90, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 5, (k, d))
    y = rng.permutation(np.repeat(np.arange(k), n // k))
    return (centers[y] + rng.normal(0, 1, (n, d))).astype(np.float32), y


def test_get_params_set_params_and_clone():
    sae = StackedAutoencoder((6, 3), random_state=0)
    model = DEC(3, hidden_dims=(8, 2), autoencoder=sae, random_state=0)
    params = model.get_params()
    assert list(params)[:3] == ["n_clusters", "hidden_dims", "alpha"]
    assert params["n_clusters"] == 3 and params["autoencoder"] is sae and len(params) == 20
    assert params["n_jobs"] is None
    assert model.set_params(alpha=2.0, max_iter=5) is model
    assert model.alpha == 2.0 and model.max_iter == 5
    with pytest.raises(ValueError, match="invalid parameter 'alpah'"):
        model.set_params(alpah=1.0)
    twin = clone(model)
    assert twin is not model and not hasattr(twin, "labels_")
    assert twin.get_params()["max_iter"] == 5
    # the pretrained autoencoder is copied with its weights, not rebuilt untrained
    assert twin.autoencoder is not sae
    np.testing.assert_array_equal(twin.autoencoder.params["enc0.W"], sae.params["enc0.W"])


def test_repr_shows_only_the_changed_parameters():
    assert repr(DEC()) == "DEC()"
    assert repr(DEC(3, random_state=0)) == "DEC(n_clusters=3, random_state=0)"
    assert repr(DEC(hidden_dims=[500, 500, 2000, 10])).startswith("DEC(hidden_dims=[500")
    assert repr(StackedAutoencoder((6, 3), init_std="glorot")) == \
        "StackedAutoencoder(dims=(6, 3), init_std='glorot')"


def test_unfitted_error_is_value_and_attribute_error_and_sklearns():
    from sklearn.utils.validation import check_is_fitted
    for method in ("predict", "predict_proba", "transform"):
        with pytest.raises(NotFittedError, match="not fitted") as info:
            getattr(DEC(3), method)(np.ones((4, 3)))
        assert isinstance(info.value, (ValueError)) and isinstance(info.value, AttributeError)
        assert isinstance(info.value, SklearnNotFittedError)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(DEC(3))
    X, _ = blobs()
    check_is_fitted(tiny_dec(n_clusters=3, random_state=0).fit(X))


def test_n_features_in_and_the_width_error():
    X, _ = blobs()
    model = tiny_dec(n_clusters=3, random_state=0).fit(X)
    assert model.n_features_in_ == 6
    with pytest.raises(ValueError, match="X has 5 features, but DEC is expecting 6 features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="Reshape your data"):
        model.predict(X[0])


def test_sparse_input_is_refused_clearly():
    sparse = pytest.importorskip("scipy.sparse")
    X, _ = blobs()
    for S in (sparse.csr_matrix(X), sparse.csr_array(X)):
        with pytest.raises(TypeError, match="sparse .* X.toarray()"):
            tiny_dec(n_clusters=3).fit(S)
    model = tiny_dec(n_clusters=3, random_state=0).fit(X)
    with pytest.raises(TypeError, match="sparse"):
        model.predict(sparse.csr_matrix(X))


def test_tags():
    from sklearn.base import is_clusterer
    from sklearn.utils import get_tags
    tags = get_tags(DEC())
    assert tags.estimator_type == "clusterer" and is_clusterer(DEC())
    assert not tags.input_tags.sparse and not tags.input_tags.allow_nan
    assert not tags.target_tags.required and tags.transformer_tags.preserves_dtype == ["float32"]


def test_pipeline_fit_predict_transform():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = blobs()
    pipe = make_pipeline(StandardScaler(), small_dec())
    assert pipe.fit(X) is pipe
    labels = pipe.predict(X)
    assert labels.shape == (90,) and cluster_accuracy(y, labels) > 0.9
    np.testing.assert_array_equal(labels, pipe[-1].labels_)
    assert pipe.transform(X).shape == (90, 2)
    np.testing.assert_array_equal(pipe.fit_predict(X), labels)


def test_grid_search_with_a_scorer_on_y():
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GridSearchCV
    X, y = blobs(n=120)
    search = GridSearchCV(small_dec(), {"alpha": [0.5, 1.0]},
                          scoring=make_scorer(cluster_accuracy), cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"alpha"} and search.best_score_ > 0.8
    assert isinstance(search.best_estimator_, DEC) and search.predict(X).shape == (120,)
    ari = GridSearchCV(small_dec(), {"n_clusters": [2, 3]},
                       scoring="adjusted_rand_score", cv=2).fit(X, y)
    assert ari.best_params_ == {"n_clusters": 3}


#: the checks that set n_clusters=1 (DEC needs two clusters or more)
NEED_ONE_CLUSTER = {
    name: "sets n_clusters=1; DEC needs n_clusters >= 2"
    for name in ("check_dont_overwrite_parameters", "check_fit2d_predict1d",
                 "check_methods_subset_invariance", "check_fit2d_1feature")}


@pytest.mark.filterwarnings("ignore")
def test_check_estimator_passes_but_for_the_one_cluster_checks():
    from sklearn.utils.estimator_checks import check_estimator
    results = check_estimator(tiny_dec(), expected_failed_checks=NEED_ONE_CLUSTER, on_fail=None)
    status = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {name for name, s in status.items() if "failed" in s}
    assert not failed, failed
    assert len(status) > 40 and "check_estimators_pickle" in status
    # the expected failures fail, and for the stated reason
    for r in results:
        if r["check_name"] in NEED_ONE_CLUSTER:
            assert r["status"] == "xfail", r
    for name in NEED_ONE_CLUSTER:
        est = tiny_dec(n_clusters=1)
        with pytest.raises(ValueError, match="n_clusters"):
            est.fit(np.random.default_rng(0).random((20, 3)))


@pytest.mark.filterwarnings("ignore")
def test_clustering_checks():
    """check_estimator runs these only for subclasses of sklearn's ClusterMixin: run them here
    (three blobs, ARI > 0.4, labels 0..k-1, labels_ == predict(X), fit_predict == labels_)."""
    from sklearn.utils.estimator_checks import (check_clusterer_compute_labels_predict,
                                                check_clustering)
    check_clusterer_compute_labels_predict("DEC", tiny_dec())
    for readonly_memmap in (False, True):
        check_clustering("DEC", tiny_dec(), readonly_memmap=readonly_memmap)


def test_the_package_works_without_scikit_learn():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # any import of sklearn now fails
        "import numpy as np, dec_np\n"
        "from dec_np.base import NotFittedError\n"
        "X = np.random.default_rng(0).random((40, 5)).astype('float32')\n"
        "m = dec_np.DEC(2, hidden_dims=(4, 2), n_init=1, max_iter=10, update_interval=5,\n"
        "               schedule={'model': {}, 'layerwise': None, 'finetune': {'iterations': 5}})\n"
        "try:\n    m.predict(X)\nexcept NotFittedError as e:\n    assert type(e) is NotFittedError\n"
        "print(repr(m.fit(X)), m.get_params()['n_clusters'], m.predict(X).shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "n_init=1" in out.stdout and out.stdout.rstrip().endswith("2 (40,)")


def test_score_is_minus_the_mean_kl_and_serves_grid_search_and_pipelines():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from dec_np.dec_math import kl_divergence, target_distribution
    X, y = blobs(n=120)
    model = small_dec().fit(X)
    q = model.predict_proba(X)
    expected = -kl_divergence(target_distribution(q), q) / len(X)
    assert model.score(X) == pytest.approx(expected, rel=1e-5) and model.score(X) < 0
    assert model.score(X, y) == model.score(X)  # y is ignored
    assert model.score(X) == pytest.approx(-model.history_["loss"][-1], rel=0.5)
    # without scoring=, GridSearchCV and Pipeline.score use it (both failed: no score)
    search = GridSearchCV(small_dec(), {"alpha": [0.5, 1.0]}, cv=2).fit(X)
    assert np.isfinite(search.best_score_) and search.best_score_ <= 0
    pipe = make_pipeline(StandardScaler(), small_dec()).fit(X)
    assert np.isfinite(pipe.score(X)) and pipe.score(X) <= 0


def test_feature_names_in_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, _ = blobs()
    columns = [f"pixel{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    model = tiny_dec(n_clusters=3, random_state=0).fit(df)
    assert model.feature_names_in_.tolist() == columns and model.feature_names_in_.dtype == object
    np.testing.assert_array_equal(model.predict(df), model.labels_)
    with pytest.raises(ValueError, match="The feature names should match .* new: \\['other'\\]"):
        model.predict(df.rename(columns={"pixel0": "other"}))
    with pytest.raises(ValueError, match="feature names should match"):
        model.transform(df[columns[::-1]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        model.predict(X)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="X has 5 features, but DEC"):
        model.predict(X[:, :5])
    assert not hasattr(model.fit(X), "feature_names_in_")  # a refit on an array forgets them
    with pytest.warns(UserWarning, match="X has feature names, but DEC was fitted without"):
        model.predict(df)
    # integer column names are no names, as in scikit-learn
    assert not hasattr(tiny_dec(n_clusters=3).fit(pd.DataFrame(X)), "feature_names_in_")
