#!/usr/bin/env python3
"""Writes gsoc.json, the Grafana dashboard for gsocd (Grafana 9+, schema 37).

Edit the PANELS table here and run `python3 deploy/grafana/make_dashboard.py`;
tests/deploy checks that every query names only metrics gsocd exports.
"""
import json
import pathlib

# (row title, [(panel title, unit, [(expr, legend)], kind)])
PANELS = [
    ("Ingest", [
        ("Events received by agency", "ops",
         [('sum by (agency) (rate(gsoc_events_received_total{instance=~"$instance"}[$__rate_interval]))', "{{agency}}")], "timeseries"),
        ("Events received by listener", "ops",
         [('sum by (listener) (rate(gsoc_events_received_total{instance=~"$instance"}[$__rate_interval]))', "{{listener}}")], "timeseries"),
        ("Bytes received", "Bps",
         [('sum by (listener) (rate(gsoc_bytes_received_total{instance=~"$instance"}[$__rate_interval]))', "{{listener}}")], "timeseries"),
        ("Discarded events", "ops",
         [('sum by (listener, reason) (rate(gsoc_events_discarded_total{instance=~"$instance"}[$__rate_interval]))', "{{listener}} {{reason}}")], "timeseries"),
        ("Parse errors and message times ahead", "ops",
         [('sum by (listener, format) (rate(gsoc_parse_errors_total{instance=~"$instance"}[$__rate_interval]))', "{{listener}} {{format}}"),
          ('sum by (listener) (rate(gsoc_event_times_ahead_total{instance=~"$instance"}[$__rate_interval]))', "{{listener}} time ahead")], "timeseries"),
        ("Connections", "short",
         [('sum by (listener) (gsoc_connections{instance=~"$instance"})', "{{listener}}"),
          ('sum by (listener, reason) (rate(gsoc_connections_rejected_total{instance=~"$instance"}[$__rate_interval]))', "rejected {{listener}} {{reason}}")], "timeseries"),
    ]),
    ("Pipeline", [
        ("Events processed", "ops",
         [('sum(rate(gsoc_events_processed_total{instance=~"$instance"}[$__rate_interval]))', "processed")], "timeseries"),
        ("Queue", "short",
         [('sum(gsoc_queue_events{instance=~"$instance"})', "depth"),
          ('sum(gsoc_queue_capacity_events{instance=~"$instance"})', "capacity")], "timeseries"),
        ("Queue full", "ops",
         [('sum(rate(gsoc_queue_full_total{instance=~"$instance"}[$__rate_interval]))', "queue full")], "timeseries"),
    ]),
    ("Rules and alerts", [
        ("Alerts by level", "ops",
         [('sum by (level) (rate(gsoc_alerts_total{instance=~"$instance"}[$__rate_interval]))', "{{level}}")], "timeseries"),
        ("Alerts by kind", "ops",
         [('sum by (kind) (rate(gsoc_alerts_total{instance=~"$instance"}[$__rate_interval]))', "{{kind}}")], "timeseries"),
        ("Rules loaded / refused", "short",
         [('sum(gsoc_rules_loaded{instance=~"$instance"})', "loaded"),
          ('sum(gsoc_rules_refused{instance=~"$instance"})', "refused")], "stat"),
        ("Rule reloads", "short",
         [('sum by (result) (increase(gsoc_rule_reloads_total{instance=~"$instance"}[$__range]))', "{{result}}")], "stat"),
        ("Last successful rule load", "dateTimeFromNow",
         [('max(gsoc_rules_last_reload_success_timestamp_seconds{instance=~"$instance"}) * 1000', "loaded")], "stat"),
        ("Matching work per event", "short",
         [('sum(rate(gsoc_match_rules_evaluated_total{instance=~"$instance"}[$__rate_interval])) / '
           'sum(rate(gsoc_match_events_total{instance=~"$instance"}[$__rate_interval]))', "rules evaluated"),
          ('sum(rate(gsoc_match_scans_total{instance=~"$instance"}[$__rate_interval])) / '
           'sum(rate(gsoc_match_events_total{instance=~"$instance"}[$__rate_interval]))', "scans")], "timeseries"),
    ]),
    ("Correlation", [
        ("Correlation inputs and firings", "ops",
         [('sum(rate(gsoc_correlation_updates_total{instance=~"$instance"}[$__rate_interval]))', "updates"),
          ('sum(rate(gsoc_correlation_firings_total{instance=~"$instance"}[$__rate_interval]))', "firings"),
          ('sum(rate(gsoc_correlation_suppressed_total{instance=~"$instance"}[$__rate_interval]))', "suppressed")], "timeseries"),
        ("Correlation state", "short",
         [('sum(gsoc_correlation_keys{instance=~"$instance"})', "keys")], "timeseries"),
        ("Correlation state bytes", "bytes",
         [('sum(gsoc_correlation_state_bytes{instance=~"$instance"})', "state"),
          ('sum(gsoc_correlation_checkpoint_bytes{instance=~"$instance"})', "last checkpoint")], "timeseries"),
        ("Late, evicted, expired", "ops",
         [('sum(rate(gsoc_correlation_late_events_total{instance=~"$instance"}[$__rate_interval]))', "late"),
          ('sum(rate(gsoc_correlation_evictions_total{instance=~"$instance"}[$__rate_interval]))', "evicted"),
          ('sum(rate(gsoc_correlation_expired_total{instance=~"$instance"}[$__rate_interval]))', "expired")], "timeseries"),
    ]),
    ("Store", [
        ("Alerts committed", "ops",
         [('sum(rate(gsoc_store_alerts_committed_total{instance=~"$instance"}[$__rate_interval]))', "committed")], "timeseries"),
        ("Write latency p99", "s",
         [('histogram_quantile(0.99, sum by (le) (rate(gsoc_store_write_seconds_bucket{instance=~"$instance"}[$__rate_interval])))', "p99"),
          ('histogram_quantile(0.5, sum by (le) (rate(gsoc_store_write_seconds_bucket{instance=~"$instance"}[$__rate_interval])))', "p50")], "timeseries"),
        ("Pending alerts and errors", "short",
         [('sum(gsoc_store_pending_alerts{instance=~"$instance"})', "pending"),
          ('sum(increase(gsoc_store_write_errors_total{instance=~"$instance"}[$__rate_interval]))', "write errors"),
          ('sum(increase(gsoc_store_publish_waits_total{instance=~"$instance"}[$__rate_interval]))', "publish waits")], "timeseries"),
        ("Store size", "bytes",
         [('sum(gsoc_store_bytes{instance=~"$instance"})', "alert records")], "timeseries"),
    ]),
    ("API and outputs", [
        ("API requests by code", "reqps",
         [('sum by (code) (rate(gsoc_api_requests_total{instance=~"$instance"}[$__rate_interval]))', "{{code}}")], "timeseries"),
        ("API connections and streams", "short",
         [('sum(gsoc_api_connections{instance=~"$instance"})', "connections"),
          ('sum(gsoc_api_streams{instance=~"$instance"})', "streams")], "timeseries"),
        ("Webhook", "ops",
         [('sum(rate(gsoc_webhook_delivered_total{instance=~"$instance"}[$__rate_interval]))', "delivered"),
          ('sum(rate(gsoc_webhook_retries_total{instance=~"$instance"}[$__rate_interval]))', "retries"),
          ('sum(rate(gsoc_webhook_dropped_total{instance=~"$instance"}[$__rate_interval]))', "dropped")], "timeseries"),
    ]),
]


def panel(pid, title, unit, targets, kind, x, y):
    return {
        "id": pid, "type": kind, "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "targets": [{"refId": chr(ord("A") + i), "expr": e, "legendFormat": l,
                     "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for i, (e, l) in enumerate(targets)],
    }


def dashboard():
    panels, pid, y = [], 1, 0
    for row, items in PANELS:
        panels.append({"id": pid, "type": "row", "title": row, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid, y = pid + 1, y + 1
        for i, (title, unit, targets, kind) in enumerate(items):
            panels.append(panel(pid, title, unit, targets, kind, (i % 3) * 8, y + (i // 3) * 8))
            pid += 1
        y += ((len(items) + 2) // 3) * 8
    return {
        "uid": "gsoc-overview", "title": "gsoc", "tags": ["gsoc", "siem"],
        "schemaVersion": 37, "version": 1, "editable": True, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "timezone": "utc",
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"},
            {"name": "instance", "type": "query", "label": "gsocd",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(gsoc_build_info, instance)", "refId": "instances"},
             "definition": "label_values(gsoc_build_info, instance)",
             "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


if __name__ == "__main__":
    out = pathlib.Path(__file__).with_name("gsoc.json")
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")
