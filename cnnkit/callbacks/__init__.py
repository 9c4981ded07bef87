"""Keras-style training callbacks."""

from cnnkit.callbacks._backup import BackupAndRestore
from cnnkit.callbacks._base import Callback, CallbackList, History
from cnnkit.callbacks._checkpoint import ModelCheckpoint
from cnnkit.callbacks._csv_logger import CSVLogger
from cnnkit.callbacks._early_stopping import EarlyStopping
from cnnkit.callbacks._lr import LearningRateScheduler, ReduceLROnPlateau
from cnnkit.callbacks._monitor import MonitorCallback
from cnnkit.callbacks._one_cycle import OneCycle
from cnnkit.callbacks._schedules import CosineDecay
from cnnkit.callbacks._simple import LambdaCallback, TerminateOnNaN
from cnnkit.callbacks._tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "CosineDecay",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "MonitorCallback",
    "OneCycle",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
