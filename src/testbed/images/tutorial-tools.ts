/**
 * The administration scripts the deployment tutorial types on a node, written in the POSIX shell
 * busybox runs. Busybox's own adduser/addgroup take only short options and Debian's adduser is
 * Perl, so these implement exactly the tutorial's forms (`addgroup --gid N name`,
 * `adduser --uid N --ingroup group login`) by editing /etc/group, /etc/passwd and /etc/shadow,
 * and refuse anything else rather than guess. Names and ids are checked before any file is
 * touched: a name is what Debian's adduser accepts by default, an id a decimal below 65534.
 */

// Shared checks, inlined in each script (a node's image has no library path for shell code).
const CHECKS = [
  'die() { echo "$0: $*" >&2; exit 1; }',
  'valid_name() { printf %s "$1" | grep -Eq \'^[a-z_][a-z0-9_-]{0,31}$\'; }',
  'valid_id() { printf %s "$1" | grep -Eq \'^[0-9]{1,5}$\' && [ "$1" -lt 65534 ]; }',
  // The field `$2` of `$1` (a colon file) for the entry named `$3`, or nothing.
  'field_of() { awk -F: -v n="$3" -v f="$2" \'$1 == n { print $f }\' "$1"; }',
  'id_used() { awk -F: -v i="$2" \'$3 == i { found = 1 } END { exit !found }\' "$1"; }',
];

const ADDGROUP = [
  '#!/bin/sh',
  '# addgroup --gid GID NAME (the form the deployment tutorial uses)',
  ...CHECKS,
  'gid=',
  'while [ $# -gt 0 ]; do',
  '  case "$1" in',
  '    --gid) [ $# -ge 2 ] || die "--gid needs a value"; gid=$2; shift 2 ;;',
  '    --) shift; break ;;',
  '    -*) die "unsupported option $1 (supported: --gid GID NAME)" ;;',
  '    *) break ;;',
  '  esac',
  'done',
  '[ $# -eq 1 ] || die "usage: addgroup --gid GID NAME"',
  'name=$1',
  'valid_name "$name" || die "invalid group name \'$name\'"',
  '[ -n "$gid" ] || die "usage: addgroup --gid GID NAME"',
  'valid_id "$gid" || die "invalid gid \'$gid\'"',
  '[ -z "$(field_of /etc/group 1 "$name")" ] || die "the group \'$name\' already exists"',
  '! id_used /etc/group "$gid" || die "the gid $gid is already in use"',
  'echo "Adding group \'$name\' (GID $gid) ..."',
  'echo "$name:x:$gid:" >> /etc/group || exit 1',
  'echo "Done."',
  '',
].join('\n');

const ADDUSER = [
  '#!/bin/sh',
  '# adduser --uid UID --ingroup GROUP LOGIN (the form the deployment tutorial uses)',
  ...CHECKS,
  'uid=; group=',
  'while [ $# -gt 0 ]; do',
  '  case "$1" in',
  '    --uid) [ $# -ge 2 ] || die "--uid needs a value"; uid=$2; shift 2 ;;',
  '    --ingroup) [ $# -ge 2 ] || die "--ingroup needs a value"; group=$2; shift 2 ;;',
  '    --) shift; break ;;',
  '    -*) die "unsupported option $1 (supported: --uid UID --ingroup GROUP LOGIN)" ;;',
  '    *) break ;;',
  '  esac',
  'done',
  '[ $# -eq 1 ] || die "usage: adduser --uid UID --ingroup GROUP LOGIN"',
  'login=$1',
  'valid_name "$login" || die "invalid user name \'$login\'"',
  '[ -n "$uid" ] && [ -n "$group" ] || die "usage: adduser --uid UID --ingroup GROUP LOGIN"',
  'valid_id "$uid" || die "invalid uid \'$uid\'"',
  'valid_name "$group" || die "invalid group name \'$group\'"',
  'gid=$(field_of /etc/group 3 "$group")',
  '[ -n "$gid" ] || die "the group \'$group\' does not exist"',
  '[ -z "$(field_of /etc/passwd 1 "$login")" ] || die "the user \'$login\' already exists"',
  '! id_used /etc/passwd "$uid" || die "the uid $uid is already in use"',
  'home=/home/$login',
  "echo \"Adding user '$login' ($uid) with group '$group' ...\"",
  'echo "$login:x:$uid:$gid::$home:/bin/sh" >> /etc/passwd || exit 1',
  // A locked password, as Debian's adduser --disabled-password leaves it: the way in is ssh keys.
  'echo "$login:!:$(( $(date +%s) / 86400 )):0:99999:7:::" >> /etc/shadow || exit 1',
  'echo "Creating home directory \'$home\' ..."',
  'mkdir -p "$home" && chmod 755 "$home" || exit 1',
  'chown "$uid:$gid" "$home" || die "cannot give $home to $login"',
  'echo "Done."',
  '',
].join('\n');

/**
 * Grid'5000's tgz-g5k: archives the running system as a Kadeploy tgz environment, on stdout
 * (`ssh root@node tgz-g5k > img.tgz`) or sent to `login@host:path` over ssh (when the system has
 * an ssh client: the test images do not, see host-binaries.ts). Like the real
 * script (from 1.0.7) it leaves out the udev persistent-net rules, and the pseudo file systems.
 */
const TGZ_G5K = [
  '#!/bin/sh',
  '# tgz-g5k [login@host:path]: this system as a tgz environment, on stdout or sent by ssh',
  'die() { echo "tgz-g5k: $*" >&2; exit 1; }',
  'archive() {',
  '  cd / || exit 1',
  '  tar --posix --numeric-owner --one-file-system \\',
  "    --exclude='./proc/*' --exclude='./sys/*' --exclude='./tmp/*' --exclude='./mnt/*' \\",
  "    --exclude='./etc/udev/rules.d/*-persistent-net.rules' \\",
  '    -zcf - .',
  '}',
  'case $# in',
  '  0)',
  '    [ -t 1 ] && die "refusing to write an archive to a terminal: redirect stdout, or give login@host:path"',
  '    archive ;;',
  '  1)',
  // Split login@host:path without eval; the remote path is quoted for the remote shell.
  '    dest=$1',
  '    case "$dest" in *@*:*) ;; *) die "usage: tgz-g5k [login@host:path]" ;; esac',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
  '    target=${dest%%:*}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
  '    rpath=${dest#*:}',
  '    printf %s "$target" | grep -Eq \'^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$\' || die "invalid destination \'$target\'"',
  '    [ -n "$rpath" ] || die "an empty path in \'$dest\'"',
  '    q=$(printf %s "$rpath" | sed "s/\'/\'\\\\\\\\\'\'/g")',
  '    command -v ssh >/dev/null 2>&1 || die "no ssh client on this system: use ssh root@node tgz-g5k > FILE"',
  '    archive | ssh -o BatchMode=yes "$target" "cat > \'$q\'" ;;',
  '  *) die "usage: tgz-g5k [login@host:path]" ;;',
  'esac',
  '',
].join('\n');

/** The persistent-net rules file a Debian reference environment carries, for the tutorial's rm. */
const PERSISTENT_NET = [
  '# This file was automatically generated by the /lib/udev/write_net_rules',
  '# program. Remove it before capturing the system (see the deployment tutorial).',
  'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="00:16:3e:00:00:01", NAME="eth0"',
  '',
].join('\n');

/** Files (path relative to / -> content, executable or not) the tutorial's lines expect. */
export const TUTORIAL_FILES: Record<string, { content: string; exec: boolean }> = {
  'usr/sbin/addgroup': { content: ADDGROUP, exec: true },
  'usr/sbin/adduser': { content: ADDUSER, exec: true },
  'usr/sbin/tgz-g5k': { content: TGZ_G5K, exec: true },
  'etc/udev/rules.d/70-persistent-net.rules': { content: PERSISTENT_NET, exec: false },
};
