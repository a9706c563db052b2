#!/usr/bin/env bash
# Builds the StackSync image with Cloud Build, pushes it to Artifact Registry and deploys it to
# Cloud Run in the second-generation execution environment.
#
#   PROJECT=my-project REGION=europe-west1 deploy/cloudrun/deploy.sh
#
# Environment: PROJECT (required), REGION (us-central1), SERVICE (stacksync), REPOSITORY
# (stacksync, an Artifact Registry Docker repository, created if missing), TAG (the git commit),
# PUBLIC=1 to allow unauthenticated calls (default: IAM-authenticated callers only).
set -euo pipefail

: "${PROJECT:?set PROJECT to your Google Cloud project id}"
REGION="${REGION:-us-central1}"
SERVICE="${SERVICE:-stacksync}"
REPOSITORY="${REPOSITORY:-stacksync}"
cd "$(dirname "$0")/../.."
TAG="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)}"
IMAGE="$REGION-docker.pkg.dev/$PROJECT/$REPOSITORY/stacksync:$TAG"

if ! gcloud artifacts repositories describe "$REPOSITORY" --project "$PROJECT" --location "$REGION" >/dev/null 2>&1; then
  gcloud artifacts repositories create "$REPOSITORY" --project "$PROJECT" --location "$REGION" \
    --repository-format docker
fi

# Cloud Build runs `docker build` on the Dockerfile at the repository root.
gcloud builds submit --project "$PROJECT" --tag "$IMAGE" .

# --execution-environment gen2: a full Linux kernel; gen1 (gVisor) cannot host the jail and the
#   service answers 503 there, with a reason that says to use gen2.
# --concurrency 10 = STACKSYNC_MAX_CONCURRENCY + STACKSYNC_QUEUE_SIZE: Cloud Run never sends an
#   instance more than its admission control accepts.
# --memory 2Gi: two 512 MiB sandboxes, the warm interpreters and the service, with headroom.
# STACKSYNC_DRAIN_TIMEOUT=8s: Cloud Run kills 10 s after SIGTERM; in-flight scripts finish first.
# --no-cpu-throttling: warm interpreters are re-forked and cgroups reaped between requests.
# Probes on /healthz: 200 only once the sandbox works (no traffic before); if the jail cannot be
#   built, the service logs a CRITICAL line, answers 503 and the revision never becomes ready.
if [[ ${PUBLIC:-0} == 1 ]]; then auth=--allow-unauthenticated; else auth=--no-allow-unauthenticated; fi
gcloud run deploy "$SERVICE" \
  --project "$PROJECT" \
  --region "$REGION" \
  --image "$IMAGE" \
  --execution-environment gen2 \
  --port 8080 \
  --cpu 2 \
  --memory 2Gi \
  --concurrency 10 \
  --timeout 60 \
  --set-env-vars STACKSYNC_MAX_CONCURRENCY=2,STACKSYNC_QUEUE_SIZE=8,STACKSYNC_DRAIN_TIMEOUT=8s \
  --no-cpu-throttling \
  --cpu-boost \
  --min-instances 0 \
  --max-instances 10 \
  --startup-probe httpGet.path=/healthz,httpGet.port=8080,periodSeconds=2,timeoutSeconds=2,failureThreshold=30 \
  --liveness-probe httpGet.path=/healthz,httpGet.port=8080,periodSeconds=15,timeoutSeconds=3,failureThreshold=3 \
  "$auth"

URL="$(gcloud run services describe "$SERVICE" --project "$PROJECT" --region "$REGION" --format 'value(status.url)')"
echo "deployed: $URL"
# The service answers /healthz with the isolation layers in force; 503 means it cannot run scripts.
if [[ ${PUBLIC:-0} == 1 ]]; then
  curl -fsS "$URL/healthz"
else
  curl -fsS -H "Authorization: Bearer $(gcloud auth print-identity-token)" "$URL/healthz"
fi
echo
