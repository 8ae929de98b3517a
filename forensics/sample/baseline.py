"""The benign background: two weeks of ordinary work in the account, hour by hour.

Each hour gets a *plan* (who calls what, when) from its own random stream, so any hour can be
generated alone and memory stays flat at any scale. ``scale=N`` renders each plan N times: copy 0
is exactly the scale-1 baseline, copies 1..N-1 repeat the same calls at other seconds of the hour
with fresh ids. The incident never depends on these streams.

This module holds the machines (web application, AWS services, batch jobs, the security
scanner); `baseline_people` holds the humans and the CI pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random
from typing import Any

from . import baseline_people, calls, ec2_shapes
from .clock import DAY, EVIDENCE_END, EVIDENCE_START, HOUR, tokyo_hour, tokyo_weekday
from .identities import LAMBDA_BOTO3, WEB_SDK, Actor, aws_service, role_session
from .ids import Ids, derive
from .records import Call, Template
from .world import (
    ACCOUNT_ID,
    HOME_REGION,
    LAMBDA_IPS,
    ORDERS_BUCKET,
    REPORTS_BUCKET,
    WEB_NAT_IP,
    World,
)

Plan = list[tuple[int, Call]]
CREDENTIAL_WINDOW = 6 * HOUR  # instance-profile credentials rotate about every six hours


class Baseline:
    """Plans and renders the benign events of each hour of the evidence window."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self._keys: dict[tuple[Any, ...], str] = {}
        self._ec2 = aws_service("ec2.amazonaws.com")
        self._lambda = aws_service("lambda.amazonaws.com")
        self._config_svc = aws_service("config.amazonaws.com")
        self._asg = self.asg_instances()

    # --- shared helpers ------------------------------------------------------------------

    def session_key(self, *label: Any) -> str:
        """The ASIA key of one role session, stable whichever hour asks for it."""
        key = self._keys.get(label)
        if key is None:
            key = Ids(derive(self.seed, "session-key", *label)).access_key("ASIA")
            self._keys[label] = key
        return key

    def hours(self) -> range:
        return range(EVIDENCE_START, EVIDENCE_END, HOUR)

    def plan(self, hour: int) -> Plan:
        """Every benign call of one hour, in a fixed order of actors."""
        rng = derive(self.seed, "baseline-plan", hour)
        plan: Plan = []
        self._web_app(hour, rng, plan)
        self._config(hour, rng, plan)
        self._autoscaling(hour, plan)
        self._nightly_batch(hour, rng, plan)
        baseline_people.add_people(self, hour, rng, plan)
        return plan

    def events(self, hour: int, scale: int) -> Iterator[tuple[int, dict[str, Any], str]]:
        """(time, record, record as JSON text) of one hour, ``scale`` copies of its plan. The
        record dict is shared by all copies of a call and has holes where time and ids go;
        the text is what gets written."""
        templates = [(t, Template(call)) for t, call in self.plan(hour)]
        for copy in range(scale):
            ids = Ids(derive(self.seed, "baseline-ids", hour, copy))
            shift = ids.rng.randrange
            for t, template in templates:
                if copy:
                    t = hour + shift(HOUR)
                yield t, template.proto, template.fill(t, ids)

    # --- the web application on EC2 ------------------------------------------------------

    def web_session(self, index: int, window: int, api: str) -> Actor:
        host = self.world.web[index]
        created = window + 137 + 61 * index
        return role_session(
            self.world.web_role,
            host.instance_id,
            self.session_key("web", index, window),
            created,
            WEB_NAT_IP,
            WEB_SDK.format(api=api),
            label="web_app",
            ec2_delivery="2.0",
        )

    def _web_app(self, hour: int, rng: Random, plan: Plan) -> None:
        world = self.world
        window = hour - hour % CREDENTIAL_WINDOW
        busy = 7 <= tokyo_hour(hour) <= 23  # the shop takes orders from morning to midnight
        for index, host in enumerate(world.web):
            if hour == window:
                key = self.session_key("web", index, window)
                call = calls.assume_role_by_service(
                    self._ec2,
                    world.web_role.arn,
                    host.instance_id,
                    HOME_REGION,
                    key,
                    window + 7 * HOUR,
                    Ids(derive(self.seed, "web-assume", index, window)),
                )
                plan.append((window + 137 + 61 * index, call))
            ssm = self.web_session(index, window, "ssm")
            param = {"name": "/sakura/prod/db/password", "withDecryption": True}
            plan.append(
                (
                    hour + rng.randrange(HOUR),
                    calls.simple(ssm, "ssm", "GetParameter", HOME_REGION, True, params=param),
                )
            )
            kms = self.web_session(index, window, "kms")
            plan.append((hour + rng.randrange(HOUR), self._kms_decrypt(kms)))
            s3 = self.web_session(index, window, "s3")
            for _ in range(rng.randint(1, 2) if busy else 0):
                key = f"orders/2026/{rng.randrange(100000, 999999)}.json"
                call = calls.s3_object(s3, "PutObject", ORDERS_BUCKET, key, HOME_REGION, 0)
                plan.append((hour + rng.randrange(HOUR), call))
            if rng.random() < 0.5:
                key = f"catalog/prices-{rng.randrange(1, 40):02d}.json"
                size = rng.randrange(20_000, 90_000)
                call = calls.s3_object(s3, "GetObject", ORDERS_BUCKET, key, HOME_REGION, size)
                plan.append((hour + rng.randrange(HOUR), call))

    def _kms_decrypt(self, actor: Actor) -> Call:
        key_arn = f"arn:aws:kms:{HOME_REGION}:{ACCOUNT_ID}:key/{self.world.kms_key_id}"
        params = {
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"app": "sakura-shop", "purpose": "session-cookie"},
        }
        return calls.simple(
            actor,
            "kms",
            "Decrypt",
            HOME_REGION,
            True,
            params=params,
            resources=[{"accountId": ACCOUNT_ID, "type": "AWS::KMS::Key", "ARN": key_arn}],
        )

    # --- AWS services acting on their own ---------------------------------------------------

    def _config(self, hour: int, rng: Random, plan: Plan) -> None:
        day = hour - hour % DAY
        role = self.world.config_slr
        if hour == day:
            key = self.session_key("config", day)
            call = calls.assume_role_by_service(
                self._config_svc,
                role.arn,
                "AWSConfig-Describe",
                HOME_REGION,
                key,
                day + DAY + HOUR,
                Ids(derive(self.seed, "config-assume", day)),
                assumed_role_id=role.role_id,
            )
            plan.append((day + 42, call))
        actor = role_session(
            role,
            "AWSConfig-Describe",
            self.session_key("config", day),
            day + 42,
            "config.amazonaws.com",
            "config.amazonaws.com",
            label="aws_service",
            invoked_by="config.amazonaws.com",
        )
        names = ("DescribeInstances", "DescribeSecurityGroups", "DescribeNetworkInterfaces")
        for _ in range(rng.randint(1, 2)):
            plan.append((hour + rng.randrange(HOUR), calls.ec2(actor, HOME_REGION, rng.choice(names))))

    def asg_instances(self) -> list[tuple[str, int, int]]:
        """(instance id, launch, terminate) of the extra web instance autoscaling adds on
        weekdays; billing uses the same list."""
        out = []
        for day in range(EVIDENCE_START, EVIDENCE_END, DAY):
            if tokyo_weekday(day + HOUR) >= 5:
                continue
            ids = Ids(derive(self.seed, "asg", day))
            launch = day + HOUR + 60 + ids.rng.randrange(600)
            terminate = min(day + 11 * HOUR + ids.rng.randrange(900), EVIDENCE_END - 1)
            out.append((ids.resource("i"), launch, terminate))
        return out

    def _autoscaling(self, hour: int, plan: Plan) -> None:
        slr = self.world.autoscaling_slr
        for instance_id, launch, terminate in self._asg:
            for t, name in ((launch, "RunInstances"), (terminate, "TerminateInstances")):
                if not hour <= t < hour + HOUR:
                    continue
                actor = role_session(
                    slr,
                    "AutoScaling",
                    self.session_key("asg", t - t % DAY),
                    t - 30,
                    "autoscaling.amazonaws.com",
                    "autoscaling.amazonaws.com",
                    label="aws_service",
                    invoked_by="autoscaling.amazonaws.com",
                )
                plan.append((t, ec2_shapes.autoscaling_call(self.world, actor, name, instance_id)))

    def _nightly_batch(self, hour: int, rng: Random, plan: Plan) -> None:
        """A Lambda builds the sales report at 03:00 Tokyo time."""
        if tokyo_hour(hour) != 3:
            return
        role, function = self.world.nightly_role, "nightly-sales-report"
        key = self.session_key("nightly", hour)
        start = hour + 5
        plan.append(
            (
                start,
                calls.assume_role_by_service(
                    self._lambda,
                    role.arn,
                    function,
                    HOME_REGION,
                    key,
                    start + 12 * HOUR,
                    Ids(derive(self.seed, "nightly-assume", hour)),
                    assumed_role_id=role.role_id,
                ),
            )
        )
        actor = role_session(
            role, function, key, start, rng.choice(LAMBDA_IPS), LAMBDA_BOTO3, label="batch_lambda"
        )
        query = {
            "queryString": "SELECT ... FROM sales.orders WHERE dt = date_add('day', -1, current_date)",
            "workGroup": "reports",
        }
        t = start + 2
        plan.append(
            (
                t,
                calls.simple(actor, "athena", "StartQueryExecution", HOME_REGION, False, params=query),
            )
        )
        for _ in range(3):
            t += rng.randint(4, 12)
            plan.append((t, calls.simple(actor, "athena", "GetQueryExecution", HOME_REGION, True)))
        plan.append((t + 1, calls.simple(actor, "athena", "GetQueryResults", HOME_REGION, True)))
        plan.append(
            (
                t + 2,
                calls.simple(
                    actor,
                    "glue",
                    "GetTable",
                    HOME_REGION,
                    True,
                    params={"databaseName": "sales", "name": "orders"},
                ),
            )
        )
        for n in range(2):
            key = f"daily/2026/summary-{n}.csv"
            plan.append(
                (
                    t + 3 + n,
                    calls.s3_object(actor, "GetObject", ORDERS_BUCKET, key, HOME_REGION, 182_331),
                )
            )
        plan.append(
            (
                t + 6,
                calls.s3_bucket(actor, "GetBucketLocation", REPORTS_BUCKET, HOME_REGION, {"location": ""}),
            )
        )
