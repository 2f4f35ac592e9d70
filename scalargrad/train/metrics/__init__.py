"""Metrics for the Evaluator: fed batch by batch with ``update``, read with ``compute``."""

from .base import Metric, is_streaming, metric_name
from .classification import AccuracyMetric, ConfusionMatrix, F1Metric
from .loss import LossMetric
from .regression import MAEMetric, MSEMetric, R2Metric

__all__ = ["AccuracyMetric", "ConfusionMatrix", "F1Metric", "LossMetric", "MAEMetric", "MSEMetric", "Metric",
           "R2Metric", "is_streaming", "metric_name"]
