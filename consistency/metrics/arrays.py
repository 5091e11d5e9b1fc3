"""Array types of the metrics core (numpy typing), shared by every module."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
ObjectArray = NDArray[np.object_]
#: Any numpy array (inputs converted with ``np.asarray``).
AnyArray = NDArray[Any]
