#!/usr/bin/env bash
# Lists the repository's add-ons, the top-level folders with a config.yaml, one a line. Given a
# commit, only those whose image changed since it: a file that goes into the image (the
# Dockerfile and what it copies) or what the Supervisor pulls (config.yaml's image, arch and
# version). builder.yaml builds those; template-update.yaml asks for a new version for each, as
# a version is published once. One definition, so the two always agree.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
base=${1:-}
image_inputs=(Dockerfile .dockerignore src rootfs)

# The lines of config.yaml that name what the Supervisor pulls, as written at a commit.
pulled() {
  git show "$1:$2/config.yaml" 2>/dev/null \
    | awk '/^(image|version):/ { print; next } /^arch:/ { a = 1; print; next }
           a && /^[^ #-]/ { a = 0 } a { print }'
}

apps=$(find . -mindepth 2 -maxdepth 2 -name config.yaml -not -path './.git/*' -printf '%h\n' \
  | sed 's|^\./||' | LC_ALL=C sort)
while IFS= read -r app; do
  if [[ -z "$app" ]]; then
    continue
  fi
  if [[ -z "$base" ]] || ! git diff --quiet "$base" HEAD -- "${image_inputs[@]/#/$app/}" \
    || [[ "$(pulled "$base" "$app")" != "$(pulled HEAD "$app")" ]]; then
    echo "$app"
  fi
done <<< "$apps"
