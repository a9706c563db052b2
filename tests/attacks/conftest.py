# The attack suite's helper modules assert too: let pytest explain their failures in detail.
import pytest

pytest.register_assert_rewrite("attack_client", "attack_host")
