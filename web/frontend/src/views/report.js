import { ApiError, api } from "../api.js";
import { h, show, showFailure } from "../dom.js";

const WAIT_MS = 1000;

export async function reportView(roomId) {
  show(h("h1", {}, "Report"), h("p", { "aria-live": "polite" }, "The report is being written…"));
  const report = await fetchReport(roomId); // a refusal (not signed in, not yours) goes to the router
  if (report) {
    render(roomId, report);
    return null;
  }
  await api("GET", `/rooms/${roomId}`); // the report's 404 also means "no such room": that one is not waited for
  // Not written yet: wait for it without holding the router, and stop asking once the user has moved on.
  let stopped = false;
  (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
      if (stopped) return;
      try {
        const written = await fetchReport(roomId);
        if (written && !stopped) {
          render(roomId, written);
          return;
        }
      } catch (error) {
        if (!stopped) showFailure(error);
        return;
      }
    }
  })();
  return () => (stopped = true);
}

async function fetchReport(roomId) {
  try {
    return await api("GET", `/rooms/${roomId}/report`);
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) return null;
    throw failure;
  }
}

function render(roomId, report) {
  const dimensions = report.dimensions.map((d) =>
    h("tr", {}, h("th", { scope: "row" }, d.dimension.replaceAll("_", " ")), h("td", {}, d.score.toFixed(1)), h("td", {}, d.evidence)),
  );
  show(
    h("h1", {}, "Report"),
    h("p", { class: "score" }, h("strong", {}, `${report.overall.toFixed(1)} / 5`), ` over ${report.answered} answers`),
    h("p", { class: "muted" }, `Scored by ${report.provider}.`),
    h(
      "table",
      { class: "scores" },
      h("caption", {}, "Scores by dimension, with the evidence"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dimension"), h("th", { scope: "col" }, "Score"), h("th", { scope: "col" }, "Evidence"))),
      h("tbody", {}, dimensions),
    ),
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Strengths"), list(report.strengths.map((s) => s))),
      h("section", { class: "card" }, h("h2", {}, "To work on"), list(report.weaknesses.map((w) => [h("strong", {}, `${w.topic}: `), w.evidence]))),
      h("section", { class: "card" }, h("h2", {}, "Practise next"), list(report.recommended_practice)),
    ),
    h("p", {}, h("a", { href: `#/room/${roomId}` }, "Back to the room's transcript"), " · ", h("a", { href: "#/dashboard" }, "Dashboard")),
  );
}

function list(items) {
  return items.length ? h("ul", {}, items.map((item) => h("li", {}, item))) : h("p", { class: "muted" }, "Nothing here.");
}
