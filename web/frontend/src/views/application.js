import { api } from "../api.js";
import { h, notify, show, when } from "../dom.js";

// One application: its timeline (each email or manual step, oldest first), its todos, and its status to correct.
const STATUSES = ["referral", "applied", "viewed", "replied", "assessment", "interview_invitation", "interview_scheduled", "offer", "rejection", "withdrawn"];
const label = (status) => status.replaceAll("_", " ");

export async function applicationView(applicationId) {
  const [application, todos] = await Promise.all([
    api("GET", `/applications/${applicationId}`),
    api("GET", `/todos?application_id=${applicationId}`),
  ]);
  const events = application.events.map((e) =>
    h(
      "li",
      { class: "event" },
      h("time", { datetime: e.occurred_at }, when(e.occurred_at)),
      " ",
      h("strong", {}, label(e.status)),
      h("p", {}, e.summary),
      e.deadline ? h("p", {}, `Deadline: ${when(e.deadline)}`) : null,
      e.interview_at ? h("p", {}, `Interview: ${when(e.interview_at)}`) : null,
      e.from_email ? h("p", { class: "muted" }, `From an email, read by ${e.provider}`) : null,
    ),
  );
  const status = h("select", { id: "app-status" }, STATUSES.map((s) => h("option", { value: s, selected: s === application.status }, label(s))));
  const error = h("p", { class: "error", role: "alert" });
  const items = todos.items.map((t) => h("li", {}, t.title, t.due_at ? h("span", { class: "muted" }, ` — due ${when(t.due_at)}`) : null, h("span", { class: "muted" }, ` (${t.status.toLowerCase()})`)));
  show(
    h("p", {}, h("a", { href: "#/dashboard" }, "← Dashboard")),
    h("h1", {}, `${application.company}${application.position ? `, ${application.position}` : ""}`),
    h("p", {}, "Now: ", h("strong", {}, label(application.status)), h("span", { class: "muted" }, ` (since ${when(application.updated_at)}${application.archived ? ", archived" : ""})`)),
    h(
      "div",
      { class: "room" },
      h("section", { class: "card", "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Timeline"), events.length ? h("ol", { class: "timeline" }, events) : h("p", { class: "muted" }, "Nothing yet.")),
      h(
        "div",
        { class: "stack" },
        h("section", { class: "card", "aria-labelledby": "app-todos-title" }, h("h2", { id: "app-todos-title" }, "To do"), items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "muted" }, "Nothing to do for this one.")),
        h(
          "form",
          {
            class: "card",
            "aria-labelledby": "app-change-title",
            onsubmit: async (event) => {
              event.preventDefault();
              error.textContent = "";
              try {
                await api("PATCH", `/applications/${applicationId}`, { status: status.value });
                notify("Status changed.");
                applicationView(applicationId);
              } catch (failure) {
                error.textContent = failure.message;
              }
            },
          },
          h("h2", { id: "app-change-title" }, "Correct the status"),
          h("p", {}, h("label", { for: "app-status" }, "Status"), status),
          error,
          h("p", { class: "actions" }, h("button", { type: "submit" }, "Save")),
        ),
      ),
    ),
  );
}
