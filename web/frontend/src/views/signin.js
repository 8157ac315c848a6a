import { api, remember } from "../api.js";
import { h } from "../dom.js";

export function signInView(done) {
  let signingUp = false;
  const error = h("p", { class: "error", role: "alert" });
  const name = h("input", { id: "name", name: "name", autocomplete: "name", maxlength: 120 });
  const nameField = h("p", { hidden: true }, h("label", { for: "name" }, "Your name"), name);
  const role = h("select", { id: "role", name: "role" }, h("option", { value: "candidate" }, "Candidate: I practise"), h("option", { value: "recruiter" }, "Recruiter: I interview"));
  const roleField = h("p", { hidden: true }, h("label", { for: "role" }, "I am a"), role);
  const email = h("input", { id: "email", name: "email", type: "email", required: true, autocomplete: "email" });
  const password = h("input", { id: "password", name: "password", type: "password", required: true, minlength: 10, autocomplete: "current-password" });
  const submit = h("button", { type: "submit" }, "Sign in");
  const toggle = h("button", { type: "button", class: "link" }, "New here? Create an account");
  const title = h("h1", {}, "Sign in");

  toggle.addEventListener("click", () => {
    signingUp = !signingUp;
    nameField.hidden = roleField.hidden = !signingUp;
    name.required = signingUp;
    title.textContent = submit.textContent = signingUp ? "Create your account" : "Sign in";
    toggle.textContent = signingUp ? "Have an account? Sign in" : "New here? Create an account";
    password.autocomplete = signingUp ? "new-password" : "current-password";
  });

  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        submit.disabled = true;
        try {
          const tokens = signingUp
            ? await api("POST", "/auth/signup", { email: email.value, password: password.value, display_name: name.value, role: role.value })
            : await api("POST", "/auth/login", { email: email.value, password: password.value });
          remember(tokens);
          done();
        } catch (failure) {
          error.textContent = failure.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    title,
    nameField,
    h("p", {}, h("label", { for: "email" }, "Email"), email),
    h("p", {}, h("label", { for: "password" }, "Password (10 characters or more)"), password),
    roleField,
    error,
    h("p", { class: "actions" }, submit, toggle),
  );
  return form;
}
