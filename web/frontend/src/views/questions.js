import { api } from "../api.js";
import { h, notify, show, STAGE_NAMES, when } from "../dom.js";

// The question bank, for recruiters and admins: list and filter, then write or change one question.
const STAGES = ["intro", "behavioural", "knowledge", "coding", "candidate_questions"];
const DIFFICULTIES = ["*", "easy", "medium", "hard"];
const PAGE = 50;

export async function questionsView(filters = {}) {
  const query = new URLSearchParams({ limit: PAGE, offset: filters.offset || 0, status: filters.status || "active" });
  for (const name of ["stage", "text"]) if (filters[name]) query.set(name, filters[name]);
  const page = await api("GET", `/questions?${query}`);
  const stage = h("select", { id: "bank-stage" }, h("option", { value: "" }, "Every stage"), STAGES.map((s) => h("option", { value: s, selected: s === filters.stage }, STAGE_NAMES[s])));
  const status = h("select", { id: "bank-status" }, ["active", "retired", "all"].map((s) => h("option", { value: s, selected: s === (filters.status || "active") }, s)));
  const text = h("input", { id: "bank-text", type: "search", maxlength: 300, value: filters.text || "" });
  const rows = page.items.map((q) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/questions/${q.id}` }, q.id)),
      h("td", {}, STAGE_NAMES[q.stage]),
      h("td", {}, q.difficulty === "*" ? "any" : q.difficulty),
      h("td", {}, q.roles.join(", ")),
      h("td", {}, q.text),
      h("td", {}, [q.yours ? "yours" : q.source, q.shared ? null : "only your rooms", q.retired ? "retired" : null].filter(Boolean).join(" · ")),
    ),
  );
  const more = (offset) => () => filterBank({ ...filters, offset });
  show(
    h("h1", {}, "Question bank"),
    h(
      "form",
      {
        class: "card filters",
        "aria-label": "Filter questions",
        onsubmit: (event) => {
          event.preventDefault();
          filterBank({ stage: stage.value, status: status.value, text: text.value.trim() });
        },
      },
      h("p", {}, h("label", { for: "bank-stage" }, "Stage"), stage),
      h("p", {}, h("label", { for: "bank-status" }, "Status"), status),
      h("p", {}, h("label", { for: "bank-text" }, "Words in the question"), text),
      h("p", { class: "actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/questions/new" }, "Write a question")),
    ),
    h("p", { class: "muted", role: "status" }, `${page.total} question${page.total === 1 ? "" : "s"}${page.total > PAGE ? `, ${page.offset + 1}–${page.offset + page.items.length} shown` : ""}`),
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "scores" }, h("caption", { class: "skip" }, "Questions"), h("thead", {}, h("tr", {}, ["Id", "Stage", "Difficulty", "Roles", "Question", "Source"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows)),
    ),
    h(
      "p",
      { class: "actions" },
      page.offset > 0 ? h("button", { type: "button", onclick: more(Math.max(0, page.offset - PAGE)) }, "Previous") : null,
      page.offset + page.items.length < page.total ? h("button", { type: "button", onclick: more(page.offset + PAGE) }, "Next") : null,
    ),
  );
}

// The filters live in the address: the route draws them, so a view still loading from before cannot draw the bank
// over them unfiltered, and the back button and a shared link keep them.
function filterBank(filters) {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value)).toString();
  const target = `#/questions${query ? `?${query}` : ""}`;
  if (location.hash === target) questionsView(filters);
  else location.hash = target;
}

// Key points as lines of "name: cue, cue"; tests as JSON (their args and expected values are JSON anyway).
function keyPointsText(points) {
  return points.map((p) => `${p.name}: ${p.cues.join(", ")}`).join("\n");
}

function parseKeyPoints(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line, n) => {
      const colon = line.indexOf(":");
      if (colon < 1) throw new Error(`Key point ${n + 1} needs a name, a colon and its cues: "caching: cache, ttl".`);
      return { name: line.slice(0, colon).trim(), cues: line.slice(colon + 1).split(",").map((c) => c.trim()).filter(Boolean) };
    });
}

function parseTests(text) {
  if (!text.trim()) return [];
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`The tests are not valid JSON: ${error.message}`);
  }
}

const words = (text) => text.split(",").map((w) => w.trim()).filter(Boolean);

export async function questionView(questionId, role) {
  const entry = questionId === "new" ? null : await api("GET", `/questions/${encodeURIComponent(questionId)}`);
  const q = entry ? entry.question : { stage: "knowledge", roles: ["*"], difficulty: "*", text: "", key_points: [], topics: [], function: null, tests: [], hints: [], reference: null };
  const mayChange = !entry || role === "admin" || (entry.yours && !entry.shared);
  const field = (id, label, control, help) => h("p", {}, h("label", { for: id }, label), control, help ? h("span", { class: "muted", id: `${id}-help` }, help) : null);
  const id = h("input", { id: "q-id", maxlength: 60, pattern: "[a-z0-9][a-z0-9\\-]{2,59}", "aria-describedby": "q-id-help" });
  const stage = h("select", { id: "q-stage" }, STAGES.map((s) => h("option", { value: s, selected: s === q.stage }, STAGE_NAMES[s])));
  const difficulty = h("select", { id: "q-difficulty" }, DIFFICULTIES.map((d) => h("option", { value: d, selected: d === q.difficulty }, d === "*" ? "any" : d)));
  const roles = h("input", { id: "q-roles", required: true, value: q.roles.join(", "), "aria-describedby": "q-roles-help" });
  const text = h("textarea", { id: "q-text", required: true, rows: 3, maxlength: 2000 }, q.text);
  const keyPoints = h("textarea", { id: "q-key-points", rows: 4, "aria-describedby": "q-key-points-help" }, keyPointsText(q.key_points));
  const topics = h("input", { id: "q-topics", value: q.topics.join(", "), "aria-describedby": "q-topics-help" });
  const fn = h("input", { id: "q-function", value: q.function || "" });
  const tests = h("textarea", { id: "q-tests", rows: 6, class: "code", "aria-describedby": "q-tests-help" }, q.tests.length ? JSON.stringify(q.tests, null, 1) : "");
  const hints = [0, 1, 2].map((n) => h("textarea", { id: `q-hint-${n}`, rows: 2, maxlength: 2000 }, q.hints[n] || ""));
  const reference = h("textarea", { id: "q-reference", rows: 8, class: "code", spellcheck: "false" }, q.reference || "");
  const shared = h("input", { id: "q-shared", type: "checkbox", checked: entry ? entry.shared : true });
  const coding = h(
    "fieldset",
    { hidden: q.stage !== "coding" },
    h("legend", {}, "Coding: the function, its tests, three hints and a reference solution in Python that passes them"),
    field("q-function", "Function to write", fn),
    field("q-tests", "Tests (JSON)", tests, 'A list of {"name": "...", "args": [...], "expected": ..., "category": "correctness" or "edge_cases"}.'),
    field("q-hint-0", "Hint 1: a nudge", hints[0]),
    field("q-hint-1", "Hint 2: the approach", hints[1]),
    field("q-hint-2", "Hint 3: nearly the solution", hints[2]),
    field("q-reference", "Reference solution", reference),
  );
  stage.addEventListener("change", () => (coding.hidden = stage.value !== "coding"));
  const error = h("p", { class: "error", role: "alert" });
  const save = h("button", { type: "submit" }, entry ? "Save changes" : "Add to the bank");

  const body = () => {
    const written = { stage: stage.value, difficulty: difficulty.value, roles: words(roles.value), text: text.value.trim(), key_points: parseKeyPoints(keyPoints.value), topics: words(topics.value) };
    if (stage.value === "coding") Object.assign(written, { function: fn.value.trim() || null, tests: parseTests(tests.value), hints: hints.map((t) => t.value.trim()).filter(Boolean), reference: reference.value || null });
    if (role === "admin") written.shared = shared.checked;
    if (entry) written.revision = entry.revision;
    else if (id.value.trim()) written.id = id.value.trim();
    return written;
  };
  const act = (label, method, path, message, style) =>
    h("button", {
      type: "button",
      class: style,
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          await api(method, path);
          notify(message);
          questionView(questionId, role);
        } catch (failure) {
          error.textContent = failure.message;
          event.target.disabled = false;
        }
      },
    }, label);

  const status = entry
    ? h("p", { class: "muted" }, `${entry.source === "starter" ? "Shipped with mocki" : entry.yours ? "Written by you" : `Written by ${entry.updated_by || "a team member"}`}; ${entry.shared ? "asked in every interview" : "asked only in rooms its writer makes"}${entry.retired ? "; retired: new interviews do not ask it" : ""}. Revision ${entry.revision}, ${when(entry.updated_at)}.`)
    : h("p", { class: "muted" }, role === "admin" ? "Shared questions are asked in every interview for their roles." : "Your questions are asked only in the rooms you make, until an admin shares them.");
  show(
    h("p", {}, h("a", { href: "#/questions" }, "← Question bank")),
    h("h1", {}, entry ? entry.id : "Write a question"),
    status,
    h(
      "form",
      {
        class: "card question-form",
        "aria-label": entry ? "Change the question" : "New question",
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          save.disabled = true;
          try {
            const written = body();
            const stored = entry ? await api("PUT", `/questions/${encodeURIComponent(entry.id)}`, written) : await api("POST", "/questions", written);
            notify(entry ? "Saved." : "Added to the bank.");
            location.hash = `#/questions/${stored.id}`;
            if (entry) questionView(stored.id, role);
          } catch (failure) {
            error.textContent = failure.message;
            save.disabled = false;
          }
        },
      },
      h("fieldset", { disabled: !mayChange },
        entry ? null : field("q-id", "Id (optional)", id, "Lower-case letters, digits and dashes; left empty, one is made from the text."),
        field("q-stage", "Stage", stage),
        field("q-difficulty", "Difficulty", difficulty),
        field("q-roles", "Roles", roles, "Words of the job titles it suits, comma separated (backend, sre…); * for every role."),
        field("q-text", "Question", text),
        field("q-key-points", "Key points", keyPoints, 'One per line: "name: cue, cue": phrases that show the point was made. Behavioural and knowledge questions need them.'),
        field("q-topics", "Topics", topics, "Skills it tests, comma separated (python, system design…), so plans can target a job's."),
        coding,
        role === "admin" ? h("p", {}, h("label", { for: "q-shared", class: "inline" }, shared, " Shared: asked in every interview")) : null,
      ),
      error,
      mayChange ? h("p", { class: "actions" }, save, entry && !entry.retired ? act("Retire", "DELETE", `/questions/${encodeURIComponent(entry.id)}`, "Retired: new interviews no longer ask it.", "danger") : null, entry && entry.retired ? act("Restore", "POST", `/questions/${encodeURIComponent(entry.id)}/restore`, "Restored.", "secondary") : null) : h("p", { class: "muted" }, "Only an admin may change a shared question; write your own variant instead."),
    ),
  );
}
