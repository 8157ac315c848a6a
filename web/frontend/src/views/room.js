import { ApiError, api, job } from "../api.js";
import { STAGE_NAMES, h, notify, show } from "../dom.js";
import { codeEditor } from "../editor.js";
import { joinCall } from "../voice.js";

const POLL_MS = 1500;
const HINTS_PER_WINDOW = 3; // the API's limit: 3 hints per 5 minutes per room
const SPEAKERS = { ai: "AI interviewer", candidate: "Candidate", human: "Interviewer" };

export async function roomView(roomId) {
  let room = await api("GET", `/rooms/${roomId}`);
  const can = (capability) => room.your_capabilities.includes(capability);
  let cursor = -1; // the last turn shown
  let call = null;
  let hintsUsed = 0;

  // --- the room's state: stage, difficulty, progress, who asks -------------------------------------------
  const status = h("p", { class: "status", "aria-live": "polite" });
  const renderStatus = () => {
    const parts = [
      room.status === "active" ? (room.stage ? STAGE_NAMES[room.stage] : "Planning…") : "Ended",
      `difficulty ${room.difficulty}`,
      `question ${room.questions_asked} of ${room.questions_planned}`,
      room.interviewer === "ai" ? "the AI is interviewing" : "a person is interviewing",
    ];
    if (room.stage_seconds_left !== null && room.stage_seconds_left !== undefined && room.status === "active") {
      parts.push(`${Math.max(0, Math.round(room.stage_seconds_left / 60))} min left in this stage`);
    }
    status.textContent = parts.join(" · ");
    coding.hidden = !can("code:submit");
    const codingNow = room.stage === "coding" && room.status === "active";
    editor.setEditable(codingNow);
    hintButton.disabled = submitButton.disabled = !codingNow;
    codingNote.textContent = codingNow ? "" : "The editor opens at the coding question.";
    answerButton.disabled = room.status !== "active";
    endButton.hidden = !can("room:end") || room.status !== "active";
    takeOver.hidden = !can("interviewer:switch") || room.status !== "active" || room.mode !== "ai";
    takeOver.textContent = room.interviewer === "ai" ? "Take over from the AI" : "Hand back to the AI";
    reportLink.hidden = room.status === "active" || !can("report:read");
  };

  // --- the transcript: captions of the call, and the text conversation ------------------------------------
  const transcript = h("ol", { class: "transcript", "aria-live": "polite", "aria-label": "Transcript" });
  // Polls run one after another (the timer's and an answer's): two at once would read the same turns twice.
  let polled = Promise.resolve();
  const readNewTurns = async () => {
    for (;;) {
      const page = await api("GET", `/rooms/${roomId}/ai/messages?cursor=${cursor}&limit=200`);
      for (const turn of page.items.filter((item) => item.seq > cursor)) {
        const source = turn.grounded_in ? h("span", { class: "muted source" }, ` (asked from your documents: ${turn.grounded_in.section}, ${turn.grounded_in.why})`) : null;
        transcript.append(h("li", { class: `turn ${turn.speaker}` }, h("strong", {}, `${SPEAKERS[turn.speaker]}: `), turn.text, source));
        cursor = turn.seq;
      }
      if (page.next_cursor === null) break;
    }
    transcript.lastElementChild?.scrollIntoView({ block: "nearest" });
  };
  const pollTranscript = () => (polled = polled.catch(() => {}).then(readNewTurns));

  // --- answering by text --------------------------------------------------------------------------------
  const answer = h("textarea", { id: "answer", rows: 3, maxlength: 4000, required: true });
  const answerButton = h("button", { type: "submit" }, "Send answer");
  const answerError = h("p", { class: "error", role: "alert" });
  const answerForm = h(
    "form",
    {
      class: "answer",
      onsubmit: async (event) => {
        event.preventDefault();
        answerButton.disabled = true;
        answerError.textContent = "";
        try {
          const reply = await job(`/rooms/${roomId}/ai/message`, { text: answer.value });
          answer.value = "";
          if (reply.finished) notify("That was the last question: end the interview when you are ready.");
          await refresh();
        } catch (failure) {
          answerError.textContent = failure.message;
        } finally {
          answerButton.disabled = room.status !== "active";
        }
      },
    },
    h("label", { for: "answer" }, "Your answer"),
    answer,
    answerError,
    h("p", { class: "actions" }, answerButton),
  );
  answerForm.hidden = !can("ai:message");

  // --- the call ----------------------------------------------------------------------------------------------
  const speaking = h("p", { class: "speaking", "aria-live": "polite" }, "Not in the call.");
  const callButton = h("button", { type: "button" }, "Join by voice");
  const cameraButton = h("button", { type: "button", hidden: true, "aria-pressed": "false" }, "Camera");
  callButton.addEventListener("click", async () => {
    if (call) {
      call.leave();
      return;
    }
    callButton.disabled = true;
    try {
      const grant = await api("POST", `/rooms/${roomId}/join`);
      call = await joinCall(grant, {
        onSpeakers: (names) => (speaking.textContent = names.length ? `Speaking: ${names.join(", ")}` : "Nobody is speaking."),
        onLeft: () => {
          call = null;
          callButton.textContent = "Join by voice";
          cameraButton.hidden = true;
          speaking.textContent = "Not in the call.";
        },
      });
      callButton.textContent = "Leave the call";
      cameraButton.hidden = false;
      speaking.textContent = "In the call: speak when you are ready.";
    } catch (failure) {
      notify(`Could not join the call: ${failure.message}`);
    } finally {
      callButton.disabled = false;
    }
  });
  cameraButton.addEventListener("click", async () => {
    const on = cameraButton.getAttribute("aria-pressed") !== "true";
    await call?.setCamera(on);
    cameraButton.setAttribute("aria-pressed", String(on));
  });

  // --- coding: editor, hints, review ----------------------------------------------------------------------
  const editorHost = h("div", { class: "editor" });
  const editor = codeEditor(editorHost, "code-title");
  const language = h("select", { id: "language", onchange: () => editor.setLanguage(language.value) }, h("option", { value: "python" }, "Python"), h("option", { value: "javascript" }, "JavaScript"));
  const hintButton = h("button", { type: "button" }, `Ask for a hint (${HINTS_PER_WINDOW} left)`);
  const submitButton = h("button", { type: "button" }, "Run tests and submit");
  const codingNote = h("p", { class: "muted" });
  const hints = h("ol", { class: "hints", "aria-label": "Hints" });
  const review = h("section", { class: "review", "aria-live": "polite", "aria-label": "Code review" });
  hintButton.addEventListener("click", async () => {
    hintButton.disabled = true;
    try {
      const hint = await job(`/rooms/${roomId}/ai/hint`, { code: editor.code || null });
      hintsUsed += 1;
      hints.append(h("li", {}, h("strong", {}, `Hint ${hint.level} of ${hint.levels}: `), hint.text));
      hintButton.textContent = `Ask for a hint (${Math.max(0, HINTS_PER_WINDOW - hintsUsed)} left)`;
    } catch (failure) {
      // Over the limit the API says when to try again: shown as it says it.
      hints.append(h("li", { class: "error" }, failure instanceof ApiError && failure.status === 429 ? failure.message : `No hint: ${failure.message}`));
    } finally {
      hintButton.disabled = room.stage !== "coding";
    }
  });
  submitButton.addEventListener("click", async () => {
    submitButton.disabled = true;
    review.replaceChildren(h("p", {}, "Running your code against the tests…"));
    try {
      showReview(review, await job(`/rooms/${roomId}/ai/review`, { code: editor.code, language: language.value }));
    } catch (failure) {
      review.replaceChildren(h("p", { class: "error" }, failure.message));
    } finally {
      submitButton.disabled = room.stage !== "coding";
    }
  });
  const coding = h(
    "section",
    { class: "card coding", "aria-labelledby": "code-title" },
    h("h2", { id: "code-title" }, "Code"),
    h("p", {}, h("label", { for: "language" }, "Language "), language),
    editorHost,
    codingNote,
    h("p", { class: "actions" }, hintButton, submitButton),
    hints,
    review,
  );

  // --- ending, handing over, the report ----------------------------------------------------------------------
  const endButton = h("button", { type: "button", class: "danger" }, "End interview");
  endButton.addEventListener("click", async () => {
    if (!confirm("End the interview? The report is written next.")) return;
    await api("POST", `/rooms/${roomId}/end`);
    call?.leave();
    location.hash = `#/report/${roomId}`;
  });
  const takeOver = h("button", { type: "button" });
  takeOver.addEventListener("click", async () => {
    room = await api("POST", `/rooms/${roomId}/interviewer`, { mode: room.interviewer === "ai" ? "human" : "ai" });
    renderStatus();
  });
  const reportLink = h("a", { href: `#/report/${roomId}`, hidden: true }, "Read the report");
  const share = can("interviewer:switch") ? h("p", { class: "muted" }, "Share this room: ", h("code", {}, location.href)) : null;

  const refresh = async () => {
    room = await api("GET", `/rooms/${roomId}`);
    renderStatus();
    await pollTranscript();
  };
  show(
    h("h1", {}, `${room.role} interview`, h("span", { class: "muted" }, ` with ${room.candidate_name}`)),
    status,
    share,
    h(
      "div",
      { class: "room" },
      h("section", { class: "card conversation", "aria-labelledby": "talk-title" }, h("h2", { id: "talk-title" }, "Conversation"), h("p", { class: "actions" }, callButton, cameraButton), speaking, transcript, answerForm),
      coding,
    ),
    h("p", { class: "actions" }, endButton, takeOver, reportLink),
  );
  renderStatus();
  await pollTranscript();
  const timer = setInterval(() => refresh().catch(() => {}), POLL_MS);
  return () => {
    clearInterval(timer);
    call?.leave();
  };
}

function showReview(panel, result) {
  const tests = result.tests.map((test) => h("li", { class: test.passed ? "pass" : "fail" }, `${test.passed ? "✓" : "✗"} ${test.name}`, test.error ? h("span", { class: "muted" }, ` — ${test.error}`) : null));
  const suggestions = result.suggestions.map((s) => h("li", {}, s.line ? h("strong", {}, `Line ${s.line}: `) : null, s.message));
  const findings = result.findings.map((f) => h("li", { class: f.verdict }, h("strong", {}, `${f.category.replaceAll("_", " ")}: `), f.evidence));
  const shown = [
    h("h3", {}, `Attempt ${result.attempt}: ${result.passed} of ${result.total} tests passed`),
    h("p", { class: "muted" }, `Score ${result.score.toFixed(1)} / 5 from executed tests, reviewed by ${result.provider}`),
    tests.length ? h("ul", { class: "tests", "aria-label": "Tests" }, tests) : null,
    findings.length ? h("ul", { class: "findings", "aria-label": "Findings" }, findings) : null,
    suggestions.length ? h("div", {}, h("h4", {}, "Suggestions"), h("ul", {}, suggestions)) : null,
  ];
  panel.replaceChildren(...shown.filter((part) => part !== null));
}
