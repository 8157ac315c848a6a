"""Code review from really running the code: the question's tests in the sandbox, plus a static look at the code.

Every finding cites its evidence (which tests failed and how, which line nests loops or names things poorly). The
score comes from executed tests only; the review says so (`offline:test-runner`). Weakness signals are stored
with the submission for the weakness report and are not part of the review the candidate polls.
"""

from __future__ import annotations

import ast
import datetime as dt

import msgspec
from temporalio import activity

from activities.code_runner import CodeTest, RunResult, run_tests_async
from activities.question_bank import BankQuestion, QuestionBank
from schema.interview import CodeReview, LineSuggestion, ReviewedTest, ReviewFinding, ReviewInput
from schema.tables import CodeSubmission

PROVIDER = "offline:test-runner"
CLEAR_SHORT_NAMES = {"i", "j", "k", "n", "m", "x", "y", "_", "s"}
LONG_FUNCTION_LINES = 30


class ReviewActivities:
    def __init__(self, bank: QuestionBank) -> None:
        self._bank = bank

    @activity.defn
    async def review_code(self, submission: ReviewInput) -> CodeReview:
        await self._bank.refresh()
        question = self._bank.get(submission.question_id)
        if question.function is None:
            raise ValueError(f"{question.id} is not a coding question")
        tests = [CodeTest(t.name, t.args, t.expected) for t in question.tests]
        run = await run_tests_async(submission.code, question.function, tests, submission.language)
        review, signals = build_review(question, submission, run)
        await CodeSubmission.insert(
            CodeSubmission(
                room=submission.room_id,
                question_id=submission.question_id,
                attempt=submission.attempt,
                code=submission.code,
                review=msgspec.json.encode(review).decode(),
                signals=signals,
                created_at=dt.datetime.now(dt.UTC),
            )
        ).on_conflict(
            target=(CodeSubmission.room, CodeSubmission.question_id, CodeSubmission.attempt), action="DO NOTHING"
        )
        return review


def build_review(question: BankQuestion, submission: ReviewInput, run: RunResult) -> tuple[CodeReview, list[str]]:
    category = {t.name: t.category for t in question.tests}
    tests = [
        ReviewedTest(
            name=o.name,
            category=category[o.name],
            passed=o.passed,
            actual=o.actual,
            error=f"{o.error['type']}: {o.error['message']}" if o.error else None,
        )
        for o in run.outcomes
    ]
    findings: list[ReviewFinding] = []
    suggestions: list[LineSuggestion] = []
    signals: set[str] = set()
    if run.status != "ran":
        findings.append(ReviewFinding(category="correctness", verdict="needs_work", evidence=_not_run(run)))
        signals.add("code_structure" if run.status == "did_not_load" else "time_complexity")
    else:
        for name in ("correctness", "edge_cases"):
            mine = [t for t in tests if t.category == name]
            failed = [t for t in mine if not t.passed]
            if mine:
                findings.append(_test_finding(name, mine, failed))
            if failed and name == "edge_cases":
                signals.add("edge_cases")
        for outcome in run.outcomes:
            if outcome.error and outcome.error.get("line"):
                suggestions.append(
                    LineSuggestion(
                        line=int(str(outcome.error["line"])),
                        message=f"raised {outcome.error['type']} in test '{outcome.name}': {outcome.error['message']}",
                    )
                )
                if outcome.error["type"] == "IndexError":
                    signals.add("off_by_one")
                if category[outcome.name] == "edge_cases":
                    signals.add("input_validation")  # an unusual input crashed the code instead of being handled
    # The static look (nesting, copies, names, length) reads Python's syntax tree; other languages get the tests.
    static = _static_review(submission.code) if submission.language == "python" else ([], [], set[str]())
    static_findings, static_suggestions, static_signals = static
    findings += static_findings
    suggestions += static_suggestions
    signals |= static_signals
    passed = sum(t.passed for t in tests)
    total = len(question.tests)
    review = CodeReview(
        question_id=question.id,
        attempt=submission.attempt,
        status=run.status,
        passed=passed,
        total=total,
        score=round(5.0 * passed / total, 2) if total else 0.0,
        findings=findings,
        suggestions=sorted(suggestions, key=lambda s: (s.line or 0, s.message)),
        tests=tests,
        provider=PROVIDER,
    )
    return review, sorted(signals)


def _not_run(run: RunResult) -> str:
    reasons = {
        "did_not_load": "the code did not load",
        "timed_out": "the code did not finish",
        "crashed": "the code crashed the interpreter",
    }
    return f"{reasons.get(run.status, run.status)}: {run.detail}"


def _test_finding(category: str, mine: list[ReviewedTest], failed: list[ReviewedTest]) -> ReviewFinding:
    if not failed:
        return ReviewFinding(category=category, verdict="good", evidence=f"all {len(mine)} {category} tests pass")  # type: ignore[arg-type]
    detail = "; ".join(f"'{t.name}' {t.error or f'returned {t.actual}'}" for t in failed)
    return ReviewFinding(
        category=category,  # type: ignore[arg-type]
        verdict="needs_work",
        evidence=f"{len(failed)} of {len(mine)} {category} tests fail: {detail}",
    )


def _static_review(code: str) -> tuple[list[ReviewFinding], list[LineSuggestion], set[str]]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], [], set()
    findings: list[ReviewFinding] = []
    suggestions: list[LineSuggestion] = []
    signals: set[str] = set()
    nested = _nested_loop_line(tree)
    if nested:
        findings.append(
            ReviewFinding(
                category="complexity",
                verdict="needs_work",
                evidence=f"a loop inside a loop at line {nested}: likely O(n^2); a dict or a sort may avoid it",
            )
        )
        signals.add("time_complexity")
    copied = _copy_in_loop_line(tree)
    if copied:
        findings.append(
            ReviewFinding(
                category="complexity",
                verdict="needs_work",
                evidence=f"a slice copies the sequence inside a loop at line {copied}: O(n) extra memory on every "
                "pass; walk it with an index instead",
            )
        )
        suggestions.append(LineSuggestion(line=copied, message="this slice copies on every pass; keep an index"))
        signals.add("space_complexity")
    if not nested and not copied:
        findings.append(ReviewFinding(category="complexity", verdict="good", evidence="no nested loops"))
    uses = [(node.lineno, node.id) for node in ast.walk(tree) if isinstance(node, ast.Name) and _vague(node.id)]
    uses += [(node.lineno, node.arg) for node in ast.walk(tree) if isinstance(node, ast.arg) and _vague(node.arg)]
    first_line: dict[str, int] = {}
    for line, name in sorted(uses):
        first_line.setdefault(name, line)  # one suggestion per name, where it first appears
    vague = sorted((line, name) for name, line in first_line.items())
    for line, name in vague:
        suggestions.append(LineSuggestion(line=line, message=f"the name '{name}' says little about what it holds"))
    if vague:
        signals.add("variable_naming")
    long_functions = [
        f
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef) and (f.end_lineno or 0) - f.lineno > LONG_FUNCTION_LINES
    ]
    for function in long_functions:
        suggestions.append(
            LineSuggestion(line=function.lineno, message=f"'{function.name}' is long: split it into named steps")
        )
        signals.add("code_structure")
    readable = not vague and not long_functions
    findings.append(
        ReviewFinding(
            category="readability",
            verdict="good" if readable else "needs_work",
            evidence="clear names and short functions"
            if readable
            else f"{len(vague)} vague name(s), {len(long_functions)} long function(s)",
        )
    )
    return findings, suggestions, signals


def _vague(name: str) -> bool:
    return len(name) == 1 and name not in CLEAR_SHORT_NAMES


def _copy_in_loop_line(tree: ast.AST) -> int | None:
    """The first slice taken inside a loop's body (each pass copies the sequence)."""
    for loop in ast.walk(tree):
        if isinstance(loop, (ast.For, ast.While)):
            for statement in loop.body:
                for node in ast.walk(statement):
                    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
                        return node.lineno
    return None


def _nested_loop_line(tree: ast.AST) -> int | None:
    loops = (ast.For, ast.While, ast.comprehension)
    for outer in ast.walk(tree):
        if isinstance(outer, (ast.For, ast.While)):
            for inner in ast.walk(outer):
                if inner is not outer and isinstance(inner, loops):
                    return getattr(inner, "lineno", None) or outer.lineno
    return None
