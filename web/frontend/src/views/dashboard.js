import { api } from "../api.js";
import { h, show, when } from "../dom.js";

const ROLES = ["Backend Engineer", "Frontend Engineer", "Data Engineer", "Full Stack Engineer", "Machine Learning Engineer"];

export async function dashboardView() {
  const [me, documents, rooms, recent, weaknesses, applications, todos] = await Promise.all([
    api("GET", "/users/me"),
    api("GET", "/documents"),
    api("GET", "/rooms?limit=20"),
    api("GET", "/users/me/interviews"),
    api("GET", "/users/me/ai/weaknesses"),
    api("GET", "/applications"),
    api("GET", "/todos?status=TODO"),
  ]);
  // Recruiters may pin the coding question, one of the bank's (their own too).
  const coding = me.role === "candidate" ? null : await api("GET", "/questions?stage=coding&limit=100");
  show(
    h("h1", {}, `Hello, ${me.display_name}`),
    h(
      "div",
      { class: "grid" },
      startForm(me, documents.items.filter((d) => d.status === "ready"), coding ? coding.items : []),
      roomsCard(rooms),
      documentsCard(documents),
      me.role === "candidate" ? [recentInterviews(recent), weaknessChart(weaknesses), applicationsCard(applications), todosCard(todos)] : null,
    ),
  );
}

function documentChoice(id, label, documents) {
  const select = h("select", { id }, h("option", { value: "" }, "None"), documents.map((d) => h("option", { value: d.document_id }, d.filename || `${d.kind} of ${when(d.created_at)}`)));
  return { select, field: documents.length ? h("p", {}, h("label", { for: id }, label), select) : null };
}

function startForm(me, readyDocuments, codingQuestions) {
  const resume = documentChoice("start-resume", "Plan from my resume (optional)", readyDocuments.filter((d) => d.kind === "resume"));
  const jd = documentChoice("start-jd", "…and this job description (optional)", readyDocuments.filter((d) => d.kind === "jd"));
  const error = h("p", { class: "error", role: "alert" });
  const role = h("input", { id: "start-role", list: "roles", required: true, minlength: 2, maxlength: 80, value: ROLES[0] });
  const difficulty = h("select", { id: "start-difficulty" }, ["easy", "medium", "hard"].map((d) => h("option", { value: d, selected: d === "medium" }, d)));
  const candidate = h("input", { id: "start-candidate", type: "email" });
  const forCandidate = me.role === "candidate" ? null : h("p", {}, h("label", { for: "start-candidate" }, "Candidate's email"), candidate);
  const submit = h("button", { type: "submit" }, me.role === "candidate" ? "Start a practice interview" : "Create the room");
  const pinned = h("select", { id: "start-coding" }, h("option", { value: "" }, "Chosen by the plan"), codingQuestions.map((q) => h("option", { value: q.id }, `${q.id} (${q.difficulty}${q.yours ? ", yours" : ""})`)));
  const pinField = codingQuestions.length ? h("p", {}, h("label", { for: "start-coding" }, "Coding question"), pinned) : null;
  return h(
    "form",
    {
      class: "card",
      "aria-labelledby": "start-title",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          const body = { role: role.value, difficulty: difficulty.value };
          if (forCandidate) body.candidate_email = candidate.value;
          if (resume.select.value) body.resume_id = resume.select.value;
          if (jd.select.value) body.jd_id = jd.select.value;
          if (pinned.value) body.coding_question_id = pinned.value;
          const created = await api("POST", "/rooms", body);
          location.hash = `#/room/${created.room_id}`;
        } catch (failure) {
          error.textContent = failure.message;
          submit.disabled = false;
        }
      },
    },
    h("h2", { id: "start-title" }, me.role === "candidate" ? "Practise" : "New interview room"),
    h("p", {}, h("label", { for: "start-role" }, "Role"), role, h("datalist", { id: "roles" }, ROLES.map((r) => h("option", { value: r })))),
    h("p", {}, h("label", { for: "start-difficulty" }, "Difficulty"), difficulty),
    forCandidate,
    pinField,
    resume.field,
    jd.field,
    error,
    h("p", { class: "actions" }, submit),
  );
}

function roomsCard(rooms) {
  const active = rooms.items.filter((room) => room.status === "active");
  const ended = rooms.items.filter((room) => room.status !== "active");
  const label = (room) => `${room.role} — ${room.candidate_name}, ${when(room.created_at)}`;
  return h(
    "section",
    { class: "card", "aria-labelledby": "rooms-title" },
    h("h2", { id: "rooms-title" }, "Interview rooms"),
    h("h3", {}, "In progress"),
    active.length ? h("ul", { class: "plain", "aria-label": "In progress" }, active.map((room) => h("li", {}, h("a", { href: `#/room/${room.room_id}` }, label(room)), h("span", { class: "muted" }, ` (${room.your_relation})`)))) : h("p", { class: "muted" }, "None."),
    h("h3", {}, "Finished"),
    ended.length ? h("ul", { class: "plain", "aria-label": "Finished" }, ended.map((room) => h("li", {}, h("a", { href: `#/report/${room.room_id}` }, label(room)), room.overall == null ? h("span", { class: "muted" }, " (report being written)") : [` — ${room.overall.toFixed(1)} / 5`, h("span", { class: "muted" }, ` (scored by ${room.scored_by})`)], " · ", h("a", { href: `#/room/${room.room_id}` }, "transcript")))) : h("p", { class: "muted" }, "None yet."),
  );
}

function recentInterviews(recent) {
  const items = recent.interviews.map((item) =>
    h("li", {}, h("a", { href: `#/report/${item.room_id}` }, `${item.role}, ${when(item.started_at)}`), ` — ${item.overall.toFixed(1)} / 5`, h("span", { class: "muted" }, ` (scored by ${item.scored_by})`)),
  );
  return h("section", { class: "card", "aria-labelledby": "recent-title" }, h("h2", { id: "recent-title" }, "Past interviews"), items.length ? h("ol", { class: "plain" }, items) : h("p", { class: "muted" }, "None finished yet."));
}

function weaknessChart(report) {
  const most = Math.max(1, ...report.weaknesses.map((w) => w.count));
  const rows = report.weaknesses.map((w) =>
    h(
      "li",
      {},
      h("span", { class: "bar-label" }, w.category.replaceAll("_", " ")),
      h("span", { class: "bar", style: `--share:${w.count / most}`, role: "img", "aria-label": `seen ${w.count} times in ${w.sessions} interviews, ${w.trend}` }),
      h("span", { class: `trend ${w.trend}` }, `${w.count}× · ${w.trend}`),
    ),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "weak-title" },
    h("h2", { id: "weak-title" }, "Weaknesses over time"),
    rows.length ? h("ul", { class: "bars" }, rows) : h("p", { class: "muted" }, `Nothing to work on yet (${report.interviews} interviews).`),
  );
}

function applicationsCard(page) {
  const items = page.items.slice(0, 8).map((a) => h("li", {}, h("a", { href: `#/applications/${a.application_id}` }, `${a.company}${a.position ? `, ${a.position}` : ""}`), ": ", h("strong", {}, a.status.replaceAll("_", " ")), h("span", { class: "muted" }, ` (${when(a.updated_at)})`)));
  return h("section", { class: "card", "aria-labelledby": "apps-title" }, h("h2", { id: "apps-title" }, "Applications"), items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "muted" }, "Import your job mail to see your applications here."));
}

function todosCard(page) {
  const items = page.items.slice(0, 8).map((t) => h("li", {}, t.title, t.due_at ? h("span", { class: "muted" }, ` — due ${when(t.due_at)}`) : null));
  return h("section", { class: "card", "aria-labelledby": "todo-title" }, h("h2", { id: "todo-title" }, "To do"), items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "muted" }, "Nothing due."));
}

function documentsCard(documents) {
  const error = h("p", { class: "error", role: "alert" });
  const kind = h("select", { id: "doc-kind", name: "kind" }, h("option", { value: "resume" }, "Resume"), h("option", { value: "jd" }, "Job description"));
  const file = h("input", { id: "doc-file", name: "file", type: "file", accept: ".pdf,.docx,.txt,.md" });
  const pasted = h("textarea", { id: "doc-text", name: "text", rows: 4, maxlength: 200000, "aria-describedby": "doc-text-help" });
  const upload = h("button", { type: "submit" }, "Upload");
  const items = documents.items.map((d) => h("li", {}, `${d.kind === "jd" ? "Job description" : "Resume"}: ${d.filename || "pasted text"} `, h("span", { class: "muted" }, `(${d.status})`)));
  return h(
    "form",
    {
      class: "card",
      "aria-labelledby": "docs-title",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        if (!file.files.length && !pasted.value.trim()) {
          error.textContent = "Choose a file (PDF, DOCX, text or Markdown) or paste the text first.";
          return;
        }
        upload.disabled = true;
        try {
          const form = new FormData();
          form.append("kind", kind.value);
          if (file.files.length) form.append("file", file.files[0]);
          else form.append("text", pasted.value);
          await api("POST", "/documents", form);
          dashboardView();
        } catch (failure) {
          error.textContent = failure.message;
          upload.disabled = false;
        }
      },
    },
    h("h2", { id: "docs-title" }, "Resumes and job descriptions"),
    items.length ? h("ul", { class: "plain", "aria-label": "Your documents" }, items) : h("p", { class: "muted" }, "Upload a resume and a job description to practise for that job."),
    h("p", {}, h("label", { for: "doc-kind" }, "Kind"), kind),
    h("p", {}, h("label", { for: "doc-file" }, "File"), file),
    h("p", {}, h("label", { for: "doc-text" }, "…or paste a job description"), pasted, h("span", { class: "muted", id: "doc-text-help" }, "A job ad copied from a web page, say.")),
    error,
    h("p", { class: "actions" }, upload),
  );
}
