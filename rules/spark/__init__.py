"""Spark rules, one per module, listed here explicitly: the list is the registry.

Adding a rule: write ``rules/spark/<name>.py`` with a ``SparkRule`` subclass, then add it
to ``SPARK_RULES`` (the contract test checks ids, documentation and defaults).
"""

from rules.engine import SparkRule
from rules.spark.cartesian_join import CartesianJoin
from rules.spark.driver_bound import DriverBound
from rules.spark.full_scan import FullScan
from rules.spark.gc_pressure import GcPressure
from rules.spark.large_broadcast import LargeBroadcast
from rules.spark.oversized_cluster import OversizedCluster
from rules.spark.oversized_partitions import OversizedPartitions
from rules.spark.skew import StageSkew
from rules.spark.small_files import SmallFiles
from rules.spark.spill import StageSpill
from rules.spark.task_failures import TaskFailures
from rules.spark.too_many_partitions import TooManyPartitions

SPARK_RULES: tuple[type[SparkRule], ...] = (  # type: ignore[type-arg]  # each rule has its own Config
    CartesianJoin,
    DriverBound,
    FullScan,
    GcPressure,
    LargeBroadcast,
    OversizedCluster,
    OversizedPartitions,
    StageSkew,
    SmallFiles,
    StageSpill,
    TaskFailures,
    TooManyPartitions,
)

__all__ = ["SPARK_RULES"]
