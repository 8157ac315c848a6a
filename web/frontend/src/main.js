import { ApiError, forget, role, signedIn } from "./api.js";
import { h, notify, show, showFailure } from "./dom.js";
import { applicationView } from "./views/application.js";
import { dashboardView } from "./views/dashboard.js";
import { questionView, questionsView } from "./views/questions.js";
import { reportView } from "./views/report.js";
import { roomView } from "./views/room.js";
import { signInView } from "./views/signin.js";

// Hash routes: the server serves one page; #/room/<id> and #/report/<id> can be shared as links.
const ROUTES = [
  [/^#\/room\/([0-9a-f-]{36})$/, (id) => roomView(id)],
  [/^#\/report\/([0-9a-f-]{36})$/, (id) => reportView(id)],
  [/^#\/dashboard$/, () => dashboardView()],
  [/^#\/applications\/([0-9a-f-]{36})$/, (id) => applicationView(id)],
  [/^#\/questions(?:\?(.*))?$/, (query) => questionsView(Object.fromEntries(new URLSearchParams(query || "")))],
  [/^#\/questions\/([a-z0-9-]{3,60})$/, (id) => questionView(id, role())],
];

let leaving = null; // the current view's cleanup (timers, the voice connection)
let navigation = 0; // counts routes started: a view still loading when the user moved on is stale
let loading = 0; // views still loading

async function route() {
  if (leaving) leaving();
  leaving = null;
  const mine = ++navigation;
  loading += 1;
  try {
    const cleanup = await render();
    if (mine === navigation) leaving = cleanup;
    else if (cleanup) cleanup();
  } finally {
    loading -= 1;
  }
  // A stale view drew over the page the user moved to: draw that page again, unless it is still loading (it then
  // draws last anyway). Seen as a dashboard appearing over the question bank when its requests were slow.
  if (mine !== navigation && loading === 0) route();
}

async function render() {
  renderNav();
  if (!signedIn()) {
    // A shared room link still leads to the room once signed in.
    const target = location.hash.startsWith("#/room/") ? location.hash : "#/dashboard";
    show(signInView(() => (location.hash === target ? route() : (location.hash = target))));
    return;
  }
  const found = ROUTES.map(([pattern, view]) => [location.hash.match(pattern), view]).find(([match]) => match);
  if (!found) {
    location.hash = "#/dashboard";
    return;
  }
  const [match, view] = found;
  try {
    return await view(...match.slice(1));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      forget();
      route();
      return null;
    }
    showFailure(error);
    return null;
  }
}

function renderNav() {
  const nav = document.getElementById("nav");
  if (!signedIn()) {
    nav.replaceChildren();
    return;
  }
  const signOut = h("button", { type: "button", class: "link", onclick: () => { forget(); notify("Signed out."); route(); } }, "Sign out");
  const bank = role() === "candidate" ? null : h("a", { href: "#/questions" }, "Question bank");
  nav.replaceChildren(...[h("a", { href: "#/dashboard" }, "Dashboard"), bank, signOut].filter(Boolean));
}

window.addEventListener("hashchange", route);
route();
