#!/usr/bin/env bash
# Lists every text file git tracks that still holds a merge conflict, one path a line, and exits 1
# if there is one (0 if none). ci.yaml's conflict-markers job and template-update.yaml both run
# it, so the check on a pull request and the list in the update's pull request always agree.
#
# A conflict is a line that begins with `<<<<<<<` or `>>>>>>>` followed by a space or the line's
# end: what git and `copier update --conflict inline` write ("<<<<<<< before updating" ...
# ">>>>>>> after updating"). A lone `=======` is left out: a conflict always has the other two, and
# seven "=" also underline a Markdown heading. `git grep -I` searches the tracked files of the work
# tree, every text file whatever its name (.md, apparmor.txt, .gitignore), and skips the files
# git counts as binary (images).
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
status=0
git -c core.quotePath=false grep --no-color -I -l -E -e '^(<<<<<<<|>>>>>>>)([[:space:]]|$)' \
  || status=$?
case "$status" in
  0) exit 1 ;;  # git grep found some
  1) exit 0 ;;  # none
  *) exit "$status" ;;
esac
