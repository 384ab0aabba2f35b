"""Semiannual training (1 Jan, 1 Jul) and daily inference (08:00), America/Los_Angeles."""

import dagster as dg

from forecast_assets.core.calendar import window_start
from forecast_assets.defs.partitions import TIMEZONE, Partitions


def build_jobs(parts: Partitions):
    train = dg.define_asset_job("train_models", selection=dg.AssetSelection.groups("trained_models"),
                                partitions_def=parts.model,
                                description="Train every model for commodity x semiannual window partitions.")
    infer = dg.define_asset_job("forecast_models", selection=dg.AssetSelection.key_prefixes("forecasts"),
                                partitions_def=parts.forecast,
                                description="Forecast every model for commodity x day partitions.")
    return train, infer


def build_schedules(parts: Partitions, train_job, infer_job) -> list[dg.ScheduleDefinition]:
    commodities = parts.commodity.get_partition_keys()

    @dg.schedule(name="semiannual_training", cron_schedule="0 0 1 1,7 *", execution_timezone=TIMEZONE,
                 job=train_job, default_status=dg.DefaultScheduleStatus.RUNNING)
    def semiannual_training(context: dg.ScheduleEvaluationContext):
        # The window that starts today is trained on everything before today.
        w = window_start(context.scheduled_execution_time.date()).isoformat()
        for c in commodities:
            yield dg.RunRequest(run_key=f"{c}|{w}", partition_key=dg.MultiPartitionKey({"commodity": c, "window": w}))

    @dg.schedule(name="daily_inference", cron_schedule="0 8 * * *", execution_timezone=TIMEZONE,
                 job=infer_job, default_status=dg.DefaultScheduleStatus.RUNNING)
    def daily_inference(context: dg.ScheduleEvaluationContext):
        d = context.scheduled_execution_time.date().isoformat()
        for c in commodities:
            yield dg.RunRequest(run_key=f"{c}|{d}", partition_key=dg.MultiPartitionKey({"commodity": c, "date": d}))

    return [semiannual_training, daily_inference]
