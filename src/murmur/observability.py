"""Business metrics for the dashboard and alarms: CloudWatch EMF lines on stdout through Powertools Metrics
(no API call, no latency). Recorded by the handlers (routes, bot callbacks, the cron), never with anything
that identifies a person."""

from __future__ import annotations

from typing import Any


class BusinessMetrics:
    """MessagesSent, MessagesUnlocked, StarsEarned{product}, PaymentRejected{reason}, FulfilmentFailed,
    RefundsIssued, CronFailed. Imported lazily: a cold start that records nothing loads nothing."""

    def __init__(self, namespace: str, service: str) -> None:
        self.namespace = namespace
        self.service = service
        self._metrics: Any = None

    def _provider(self) -> Any:
        if self._metrics is None:
            from aws_lambda_powertools import Metrics

            self._metrics = Metrics(namespace=self.namespace, service=self.service)
        return self._metrics

    def count(self, name: str, value: int = 1) -> None:
        from aws_lambda_powertools.metrics import MetricUnit

        self._provider().add_metric(name=name, unit=MetricUnit.Count, value=value)

    def count_by(self, name: str, dimension: str, key: str, value: int = 1) -> None:
        """A metric with its own dimension (e.g. Stars by product), emitted at once."""
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(
            name=name, unit=MetricUnit.Count, value=value, namespace=self.namespace, default_dimensions={}
        ) as metric:
            metric.add_dimension(name="service", value=self.service)
            metric.add_dimension(name=dimension, value=key)

    def flush(self) -> None:
        """At the end of an invocation; nothing is printed when nothing was counted."""
        if self._metrics is not None and self._metrics.metric_set:
            self._metrics.flush_metrics()
