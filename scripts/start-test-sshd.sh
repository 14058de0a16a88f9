#!/bin/sh
# Runs Debian's sshd in the foreground for tests and benchmarks: its own config, host key,
# authorized_keys and pid file in DIR, listening on 127.0.0.1:PORT. Writes DIR/engine (the client
# key) and DIR/host_ed25519.pub. As root it logs in a dedicated user whose shell is /bin/sh (created
# once, idempotently), because bash sources root's .bashrc for every command sshd runs (~80 ms).
# Usage: scripts/start-test-sshd.sh DIR PORT      (stop it with SIGTERM)
set -eu
dir=${1:?usage: start-test-sshd.sh DIR PORT}
port=${2:?usage: start-test-sshd.sh DIR PORT}
case $port in *[!0-9]*|'') echo "bad port: $port" >&2; exit 2 ;; esac
user=kaploy-sshtest
home=/var/lib/kaploy-sshtest
if [ "$(id -u)" = 0 ]; then
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir "$home" --shell /bin/sh "$user"
  # UsePAM=no refuses accounts whose password is locked ('!'); '*' means "no password".
  usermod -p '*' -d "$home" -s /bin/sh "$user"
  mkdir -p "$home" /run/sshd
  chown "$user:" "$home"
else
  user=$(id -un)
fi
mkdir -p "$dir/work"
chmod 755 "$dir"
chmod 777 "$dir/work"
[ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
[ -f "$dir/engine" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/engine"
cp "$dir/engine.pub" "$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"
cat >"$dir/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $user
PermitRootLogin prohibit-password
PrintMotd no
PrintLastLog no
MaxSessions 10
MaxStartups 100:30:200
LogLevel ERROR
CFG
echo "$user" >"$dir/user"
exec /usr/sbin/sshd -D -e -f "$dir/sshd_config"
