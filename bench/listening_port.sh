# Sourced by the bench scripts. listening_port LOG: waits up to 30 s for a `stacksync serve`
# started with --port 0 to log the port it listens on, and prints it (nothing if it never does).
listening_port() {
  local port=""
  for _ in $(seq 1 300); do
    port=$(grep -o '"port": *[0-9]*' "$1" | head -1 | grep -o '[0-9]*$' || true)
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  echo "$port"
}
