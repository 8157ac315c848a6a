"""The demo's voice exchange: a scripted candidate joins a LiveKit room, hears the AI's first question, answers by
voice (espeak-ng) and hears the reply; the latency figures are printed as heard and as the agent recorded them."""

from __future__ import annotations

import asyncio

import httpx

from stack.voice_candidate import Candidate

ANSWER = "I am a backend engineer with five years of experience in payments, mostly in Python and Go."


async def voice_exchange(api_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        room = (await http.post("/rooms", json={"role": "Backend Engineer"})).raise_for_status().json()
        grant = (await http.post(f"/rooms/{room['room_id']}/join")).raise_for_status().json()
        print(f"\n== Voice exchange: room {room['room_id']} (LiveKit {grant['url']}) ==\n")
        candidate = Candidate()
        await candidate.join(grant["url"], grant["token"])
        try:
            print(f"  Candidate hears: {await candidate.hear_an_utterance(within_seconds=60)}")
            print(f"  Candidate says:  {ANSWER}")
            await candidate.say(ANSWER)
            heard = await candidate.reply_latency()
            print(f"  Candidate hears: {await candidate.transcribe_last_reply()}")
        finally:
            await candidate.room.disconnect()
        await asyncio.sleep(1)  # the agent records the reply's figures once it has been spoken
        turns = (await http.get(f"/rooms/{room['room_id']}/ai/messages")).raise_for_status().json()["items"]
    voice = next((turn["voice"] for turn in reversed(turns) if turn["voice"]), None)
    print(f"\n  Voice to voice, as the candidate heard it: {1000 * heard:.0f} ms")
    if voice:
        print(
            "  As the agent recorded it (GET /rooms/{id}/ai/messages, `voice`): "
            f"end of utterance {voice['end_of_utterance_ms']:.0f} ms (speech recognition {voice['stt_ms']:.0f} ms), "
            f"interviewer's first words {voice['llm_first_token_ms']:.0f} ms, first audio "
            f"{voice['tts_first_byte_ms']:.0f} ms; voice to voice {voice['voice_to_voice_ms']:.0f} ms "
            f"({voice['stt_provider']}, {voice['tts_provider']}"
            f"{', opened by an acknowledgement' if voice['acknowledged'] else ''})"
        )
