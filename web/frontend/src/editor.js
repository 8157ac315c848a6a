// The candidate's code editor: CodeMirror 6 with Python or JavaScript, keyboard-first (Tab indents; Esc then Tab
// leaves the editor, CodeMirror's own escape hatch).
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";
import { Compartment, EditorState } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { keymap } from "@codemirror/view";
import { basicSetup, EditorView } from "codemirror";

const LANGUAGES = { python: python(), javascript: javascript() };

export function codeEditor(parent, labelId) {
  const language = new Compartment();
  const editable = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        language.of(LANGUAGES.python),
        editable.of(EditorView.editable.of(true)),
        EditorView.contentAttributes.of({ "aria-labelledby": labelId, "aria-multiline": "true" }),
      ],
    }),
  });
  return {
    view,
    get code() {
      return view.state.doc.toString();
    },
    set code(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setLanguage(name) {
      view.dispatch({ effects: language.reconfigure(LANGUAGES[name]) });
    },
    setEditable(on) {
      view.dispatch({ effects: editable.reconfigure(EditorView.editable.of(on)) });
    },
  };
}
