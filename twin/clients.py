"""Datadog's real Python clients sending one of each: a log, a metric series, an event.

Run inside a VPC's namespace (api.send_clients does): ``python -m twin.clients --site datadoghq.com
--ca .cache/twin/ca.pem``. Prints one JSON line: {client: {"ok": bool, "status"|"error": ...}}.
"""

import argparse
import json
import sys
import time

API_KEY = "0" * 32  # the twin's intake checks no key; a real one must never be written here
CLIENTS = ("log", "metric", "event")


def send_log(site, ca, timeout):
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.logs_api import LogsApi
    from datadog_api_client.v2.model.http_log import HTTPLog
    from datadog_api_client.v2.model.http_log_item import HTTPLogItem

    configuration = _configuration(Configuration, site, ca, timeout)
    with ApiClient(configuration) as client:
        LogsApi(client).submit_log(HTTPLog([HTTPLogItem(message="hello from the network twin", ddsource="twin",
                                                        service="twin")]))
    return {"ok": True}


def send_metric(site, ca, timeout):
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.metrics_api import MetricsApi
    from datadog_api_client.v2.model.metric_intake_type import MetricIntakeType
    from datadog_api_client.v2.model.metric_payload import MetricPayload
    from datadog_api_client.v2.model.metric_point import MetricPoint
    from datadog_api_client.v2.model.metric_series import MetricSeries

    configuration = _configuration(Configuration, site, ca, timeout)
    with ApiClient(configuration) as client:
        answer = MetricsApi(client).submit_metrics(MetricPayload(series=[MetricSeries(
            metric="twin.hello", type=MetricIntakeType.GAUGE,
            points=[MetricPoint(timestamp=int(time.time()), value=1.0)])]))
    return {"ok": not answer.get("errors"), "errors": answer.get("errors")}


def send_event(site, ca, timeout):
    from datadog import api, initialize

    initialize(api_key=API_KEY, api_host="https://api.%s" % site, cacert=ca, host_name="twin-agent-host")
    api._timeout, api._max_retries, api._max_timeouts = timeout, 0, 1
    answer = api.Event.create(title="hello from the network twin", text="twin", tags=["twin"])
    errors = answer.get("errors") if isinstance(answer, dict) else None
    return {"ok": bool(answer) and not errors, "status": answer.get("status") if isinstance(answer, dict) else None,
            "errors": errors}


def _configuration(configuration_class, site, ca, timeout):
    configuration = configuration_class(request_timeout=timeout)
    configuration.server_variables["site"] = site
    configuration.api_key["apiKeyAuth"] = API_KEY
    configuration.ssl_ca_cert = ca
    configuration.enable_retry = False
    return configuration


SENDERS = {"log": send_log, "metric": send_metric, "event": send_event}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="datadoghq.com")
    parser.add_argument("--ca", required=True, help="the twin's CA (.cache/twin/ca.pem)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    parser.add_argument("--only", default=",".join(CLIENTS), help="comma-separated: %s" % ",".join(CLIENTS))
    args = parser.parse_args(argv)
    results = {}
    for name in [n for n in args.only.split(",") if n]:
        started = time.monotonic()
        try:
            results[name] = SENDERS[name](args.site, args.ca, args.timeout)
        except Exception as exc:  # noqa: BLE001 - reported, never raised: the caller compares outcomes
            results[name] = {"ok": False, "error": "%s: %s" % (type(exc).__name__, str(exc)[:300])}
        text = str(results[name].get("error") or results[name].get("errors") or "").lower()
        results[name]["timed_out"] = "timed out" in text or "timeout" in text
        results[name]["seconds"] = round(time.monotonic() - started, 2)
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
