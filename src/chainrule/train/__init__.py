"""Training in practice: ``fit`` / ``evaluate`` / ``predict``, metrics, callbacks, ``History``."""
from . import metrics
from .callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback, LearningRateMonitor,
                        ModelCheckpoint)
from .history import History
from .loop import as_loader, evaluate, fit, predict
from .metrics import (accuracy, confusion_matrix, f1_score, mae, mse, precision, r2_score, recall,
                      rmse, top_k_accuracy)

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "LearningRateMonitor", "CSVLogger", "LambdaCallback", "metrics", "accuracy",
           "top_k_accuracy", "confusion_matrix", "precision", "recall", "f1_score", "mae", "mse",
           "rmse", "r2_score", "as_loader"]
