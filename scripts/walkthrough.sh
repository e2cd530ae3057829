#!/usr/bin/env bash
# The README walkthrough as a script: every actor's famchain commands on a throwaway devnet.
# Run from the repository root after `make install` (tests/python/test_walkthrough.py runs it).
set -euo pipefail
# on a failure, stop what the walkthrough started (its own teardown is the block's last lines)
trap '[ -z "${work:-}" ] || { famchain devnet down --dir "$work/devnet" >/dev/null 2>&1 || true; rm -rf "$work"; }' EXIT

# --- setup: famchain on PATH, a scratch folder, a devnet, a password file, keystores for everyone ---------
export PATH="$PWD/.venv/bin:$PATH"  # `famchain`, installed by `make install` (run this in the checkout)
work=$(mktemp -d)                   # everything the walkthrough writes goes here
export FAMCHAIN_HOME="$work/home" FAMCHAIN_KEYSTORE_DIR="$work/keys" FAMCHAIN_DEPLOYMENT="$work/deployment.json"
echo "correct horse battery staple" > "$work/password" && chmod 600 "$work/password"
export FAMCHAIN_PASSWORD_FILE="$work/password"
eval "$(famchain devnet up --dir "$work/devnet" | grep '^export')"

pc=$(famchain account new)          # a primary-care centre's admin key
hospital=$(famchain account new)    # a tertiary hospital's admin key
insurer=$(famchain account new)     # an insurer's admin key
doctor=$(famchain account new)      # family doctor at the primary-care centre
specialist=$(famchain account new)  # specialist at the hospital
claims=$(famchain account new)      # claims officer at the insurer
patient=$(famchain account new)     # the resident
for who in $pc $hospital $insurer $doctor $specialist $claims $patient; do famchain devnet fund "$who" >/dev/null; done

# --- consortium: deploy with three founders; each institution registers its practitioners ---------------
famchain deploy --dev --yes --founder "primary-care:$pc" --founder "hospital:$hospital" --founder "insurer:$insurer"
# each practitioner signs its own enrollment naming its institution; the institution's admin submits it
famchain institution enroll-sign --institution "$pc" -o "$work/doctor.enrollment.json" --keystore "$doctor"
famchain institution add-doctor "$doctor" --enrollment "$work/doctor.enrollment.json" --keystore "$pc" --yes
famchain institution enroll-sign --institution "$hospital" -o "$work/specialist.enrollment.json" --keystore "$specialist"
famchain institution add-doctor "$specialist" --enrollment "$work/specialist.enrollment.json" --keystore "$hospital" --yes
famchain institution enroll-sign --institution "$insurer" -o "$work/claims.enrollment.json" --keystore "$claims"
famchain institution add-doctor "$claims" --enrollment "$work/claims.enrollment.json" --keystore "$insurer" --yes
famchain consortium members
# emergency custodians: each publishes its member key, the members vote it in; any 2 open an emergency
for admin in $pc $insurer; do
  famchain consortium publish-key --keystore "$admin" --yes
  vote=$(famchain consortium propose add-custodian "$admin" --keystore "$hospital" --yes --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["proposal"])')
  famchain consortium vote "$vote" --keystore "$pc" --yes
done
famchain emergency custodians

# --- resident: register, then sign the family-doctor agreement ------------------------------------------
famchain resident register --profile examples/profile.json --keystore "$patient" --yes
famchain agreement propose "$patient" --sections all --actions read,append --term-days 365 --keystore "$doctor" --yes
famchain agreement accept "$doctor" --keystore "$patient" --yes
famchain resident show "$patient" --keystore "$doctor"
# the sections an emergency may open (this is the default; `optout` opts out, `--for RESIDENT` is a guardian)
famchain emergency optin --sections past_history,diagnosis,prescriptions,allergies --keystore "$patient" --yes

# --- family doctor: submit a visit record ----------------------------------------------------------------
famchain record submit --patient "$patient" --file examples/visit.json --keystore "$doctor" --yes
record=$(famchain record list --patient "$patient" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"][0]["record"])')
famchain record list --patient "$patient"

# --- consent: a specialist on referral (transaction), the insurer for two sections (offline signature) -----
famchain consent grant "$specialist" --sections all --purpose referral --days 30 --keystore "$patient" --yes
famchain record read "$record" --keystore "$specialist"
famchain consent sign "$claims" --sections diagnosis,prescriptions --purpose insurance-claim --days 30 \
  --recipient "claims office, Example Insurance" --contact claims@example.org -o "$work/consent.json" --keystore "$patient"
famchain consent submit "$work/consent.json" --keystore "$claims" --yes
famchain record read "$record" --keystore "$claims"

# --- amendment: the doctor prepares it, the patient signs, the doctor relays ------------------------------
famchain record update "$record" --file examples/amended.json -o "$work/approval.json" --keystore "$doctor" --yes
famchain record approve "$work/approval.json" --keystore "$patient" --yes
famchain record update --approval "$work/approval.json" --keystore "$doctor" --yes

# --- emergency: the resident arrives unconscious; a hospital physician declares, two custodians approve ----
eid=$(famchain emergency declare "$patient" --reason unconscious --keystore "$specialist" --yes --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
famchain emergency approve "$eid" --keystore "$pc" --yes
famchain emergency approve "$eid" --keystore "$insurer" --yes
famchain emergency read "$eid" --keystore "$specialist"
famchain emergency review "$eid" --accept --keystore "$patient" --yes

# --- revocation and audit -------------------------------------------------------------------------------
famchain consent revoke "$claims" --keystore "$patient" --yes
famchain consent list --keystore "$patient"
famchain audit --patient "$patient"
famchain audit --patient "$patient" --disclosures --keystore "$patient"

# --- teardown: stop the devnet `devnet up` started (its folder is in the exports), remove the scratch folder --
famchain devnet down
rm -rf "$work"
