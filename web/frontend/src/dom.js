// Elements are built from text nodes only (never innerHTML): whatever the API returns is shown, never run.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function show(...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
  main.focus();
}

export function showFailure(error) {
  show(h("section", {}, h("h1", {}, "Something went wrong"), h("p", {}, error.message)));
}

export function notify(message) {
  const notice = document.getElementById("notice");
  notice.textContent = message;
  if (message) setTimeout(() => notice.textContent === message && (notice.textContent = ""), 8000);
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export const STAGE_NAMES = {
  intro: "Introduction",
  behavioural: "Behavioural",
  knowledge: "Knowledge",
  coding: "Coding",
  candidate_questions: "Your questions",
  wrap_up: "Wrap-up",
};
