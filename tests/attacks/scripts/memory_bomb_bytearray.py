"""Attack: grow a bytearray by 32 MiB at a time, touching every page, up to 4 GiB."""


def main():
    chunks = []
    for _ in range(128):
        chunks.append(bytearray(b"\x01" * (32 << 20)))
    return {"allocated_mib": 32 * len(chunks)}
