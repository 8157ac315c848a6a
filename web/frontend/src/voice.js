// The voice call: the room's LiveKit audio through livekit-client. The AI interviewer (or a person) answers in
// the same room; the transcript below is the captions.
import { Room, RoomEvent, Track } from "livekit-client";

export async function joinCall(grant, { onSpeakers, onLeft }) {
  const room = new Room({ adaptiveStream: true, dynacast: true });
  room.on(RoomEvent.TrackSubscribed, (track) => {
    if (track.kind === Track.Kind.Audio) document.body.append(track.attach());
  });
  room.on(RoomEvent.TrackUnsubscribed, (track) => track.detach().forEach((element) => element.remove()));
  const named = (p) => (p.isLocal ? "you" : p.isAgent ? "the AI interviewer" : p.name || p.identity);
  room.on(RoomEvent.ActiveSpeakersChanged, (speakers) => onSpeakers(speakers.map(named)));
  room.on(RoomEvent.Disconnected, () => onLeft());
  await room.connect(grant.url, grant.token);
  await room.localParticipant.setMicrophoneEnabled(true);
  return {
    async setCamera(on) {
      await room.localParticipant.setCameraEnabled(on);
    },
    leave() {
      room.disconnect();
    },
  };
}
