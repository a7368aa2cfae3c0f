# shellcheck shell=bash
# Sourced by the benchmark scripts (not run): the `rules:` section of
# deploy/gsoc.yaml (the shipped pack, decoders, pipelines, lists) with
# absolute paths into the repository at $1.
shipped_rules_yaml() {
  cat <<YAML
rules:
  sigma: [$1/rules/sigma]
  decoders: [$1/rules/decoders]
  logsources: $1/rules/logsources.yaml
  lists:
    - {name: bad_ips, file: $1/rules/lists/bad_ips.txt}
    - {name: bad_domains, file: $1/rules/lists/bad_domains.txt}
YAML
}
