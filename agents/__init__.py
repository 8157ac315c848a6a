"""The LiveKit voice agent (`mocki agent`). Only the name lives here, so the API can dispatch the agent without
importing livekit-agents and its models."""

AGENT_NAME = "mocki-interviewer"
