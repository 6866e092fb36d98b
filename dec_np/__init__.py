"""dec_np: Deep Embedded Clustering (Xie, Girshick & Farhadi, ICML 2016) from scratch in NumPy.

The same code runs on CuPy arrays on a GPU (``backend="cupy"``).  The whole API:
:class:`DEC` (the estimator), :class:`StackedAutoencoder` (pretraining), the pure
functions of :mod:`dec_np.dec_math`, :mod:`dec_np.metrics` and :mod:`dec_np.datasets`.
"""
from .autoencoder import StackedAutoencoder
from .dec import DEC
from .dec_math import kl_divergence, kl_gradients, soft_assignment, target_distribution
from .metrics import ari, cluster_accuracy, nmi

__version__ = "0.1.0"
__all__ = ["DEC", "StackedAutoencoder", "soft_assignment", "target_distribution",
           "kl_divergence", "kl_gradients", "cluster_accuracy", "nmi", "ari", "__version__"]
