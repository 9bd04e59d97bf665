import sys
from pathlib import Path

# The schema strategies of the protocol tests generate any message a schema allows.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "protocol"))
