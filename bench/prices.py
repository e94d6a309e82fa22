"""AWS list prices (us-east-1) and the Stars payout, in ONE place, with the date they were taken.

Each price says where it was checked. "unconfirmed" means the search tool did not return a page that
states it, so it is the figure we know from AWS's pricing pages but could not re-check here: verify it
before quoting. Change a price here and `make bench` recomputes every dollar figure."""

from __future__ import annotations

TAKEN_ON = "2026-11-22"  # the day these were looked up (machine date); us-east-1, on-demand, no free tier
REGION = "us-east-1"

# --- AWS Lambda, arm64 (Graviton). aws.amazon.com/lambda/pricing; restated by cloudchipr.com/blog/aws-lambda-pricing
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334  # first 7.5 billion GB-s a month
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_BILLING_GRANULARITY_MS = 1  # duration is rounded up to the next millisecond
LAMBDA_FULL_VCPU_MB = 1769  # CPU is allotted in proportion to memory; 1,769 MB = one vCPU (AWS docs)

# --- API Gateway HTTP API. aws.amazon.com/api-gateway/pricing; AWS whitepaper "Best practices for
# designing API Gateway private APIs", table 4: first 300 million requests a month $1.00 per million,
# metered in 512 KB increments (all our requests are far below 512 KB).
HTTP_API_PER_REQUEST = 1.00 / 1_000_000

# --- DynamoDB on-demand, Standard table class. After the 2024-11-01 price cut: $0.625 per million
# write request units, $0.125 per million read request units (airbyte.com/data-engineering-resources/
# dynamodb-pricing). One stale third-party page still says $0.25/M reads (the pre-cut price).
DYNAMODB_PER_WRU = 0.625 / 1_000_000
DYNAMODB_PER_RRU = 0.125 / 1_000_000
DYNAMODB_STORAGE_PER_GB_MONTH = 0.25  # unconfirmed; first 25 GB a month free
DYNAMODB_PITR_PER_GB_MONTH = 0.20  # unconfirmed; continuous backups, per GB of table size
DYNAMODB_WRITE_UNIT_BYTES = 1024
DYNAMODB_READ_UNIT_BYTES = 4096

# --- CloudWatch. c3x.dev/resources/aws/aws_cloudwatch_metric_alarm ($0.10 standard alarm-month);
# factualminds.com CloudWatch pricing ($3 per dashboard-month, logs ingestion $0.50/GB).
CLOUDWATCH_ALARM_MONTH = 0.10
CLOUDWATCH_DASHBOARD_MONTH = 3.00
CLOUDWATCH_FREE_ALARMS = 10  # unconfirmed: the always-free tier (10 alarms, 3 dashboards of <= 50 metrics)
CLOUDWATCH_FREE_DASHBOARDS = 3  # unconfirmed
CLOUDWATCH_LOGS_INGEST_PER_GB = 0.50
CLOUDWATCH_LOGS_STORAGE_PER_GB_MONTH = 0.03  # unconfirmed

# --- The rest of the stack at rest.
KMS_AWS_MANAGED_KEY_MONTH = 0.0  # unconfirmed: AWS-managed keys (aws/dynamodb) carry no monthly fee
S3_STANDARD_PER_GB_MONTH = 0.023  # unconfirmed
CLOUDFRONT_AT_REST = 0.0  # unconfirmed: no monthly fee; the always-free tier covers 1 TB / 10 M requests
SCHEDULER_PER_INVOCATION = 1.00 / 1_000_000  # unconfirmed; EventBridge Scheduler, 14 M a month free
SSM_STANDARD_PARAMETER_MONTH = 0.0  # unconfirmed: standard parameters and standard throughput are free
SNS_EMAIL_AT_REST = 0.0  # nothing is sent while nothing is wrong
SQS_AT_REST = 0.0  # the cron's dead-letter queue: 1 M requests a month free, idle otherwise

# --- The comparison: one small VPS. unconfirmed: AWS Lightsail's smallest Linux bundle with a public
# IPv4 address is $5/month (512 MB, 2 vCPU burst); Hetzner CX22 is about EUR 3.79/month.
SMALL_VPS_MONTH = 5.00

# --- Revenue. What the developer receives per Telegram Star: about $0.013 (the rate Telegram uses for
# Stars rewards withdrawn through Fragment, after the app stores' cut; as given in the brief of issue 7).
# unconfirmed with the search tool: check Telegram's Stars terms (telegram.org/tos/stars) before quoting.
USD_PER_STAR_TO_DEVELOPER = 0.013
# What a Star costs a buyer in the app, about $0.02 (100 Stars for about $1.99, the smallest packs). unconfirmed with
# Telegram's own pages; third-party guides (grambase.ai, "Telegram Stars Guide 2026") give the same. Against the payout
# above, the bot keeps about 65 % of what a buyer pays: `murmur.catalog.STARS_KEPT` prices real gifts from it.
USD_PER_STAR_TO_BUYER = 0.02
