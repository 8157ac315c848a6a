"""The web room in a real browser: Debian's Chromium, driven by Playwright, against the API and worker as users run
them. A candidate signs up, starts a practice interview, answers until the coding question, asks for a hint,
submits code and reads its review, ends the interview and reads the report. Screenshots go to
test-artifacts/web-room/ (laptop and phone sizes)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import shutil
import subprocess
import uuid
import wave
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from stack.sample_documents import JOB_DESCRIPTION, RESUME, pdf
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import PASSWORD, sign_up
from tests.test_voice import voice_agent

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "web-room"
CHROMIUM = shutil.which("chromium")
CODE = "def solve(values):\n    return values\n"
ANSWER = "I would start from the requirements, measure, and keep the design simple; for example a queue and a cache."
MAX_ANSWERS = 20
VOICE_ANSWER = "I am a backend engineer with five years of experience in payments."

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed: run `make install`")


async def signed_in(browser: Browser, tokens: str) -> Page:
    """A tab already signed in with `tokens` (the API's sign-up answer, as JSON), as the app keeps them."""
    page = await browser.new_page()
    await page.add_init_script(f"sessionStorage.setItem('mocki.session', {json.dumps(tokens)})")
    return page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


async def test_a_candidate_practises_in_the_browser_from_sign_up_to_the_report(api: httpx.AsyncClient) -> None:
    email = f"browser-{uuid.uuid4().hex[:10]}@test.mocki.local"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        errors: list[str] = []  # uncaught errors in the page's scripts fail the test
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        await page.goto(f"{api.base_url}/app")

        await page.get_by_role("button", name="New here? Create an account").click()
        await page.get_by_label("Your name").fill("Ada Browser")
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password (10 characters or more)").fill(PASSWORD)
        await page.get_by_role("button", name="Create your account").click()
        await expect(page.get_by_role("heading", name="Hello, Ada Browser")).to_be_visible()
        await shot(page, "1-dashboard")

        await page.get_by_label("Role").fill("Backend Engineer")
        await page.get_by_role("button", name="Start a practice interview").click()
        transcript = page.get_by_role("list", name="Transcript")
        (
            await expect(transcript.get_by_role("listitem")).to_have_count(1, timeout=20_000),
            errors,
        )  # the opening question
        await expect(page.locator(".status")).to_contain_text("Introduction")

        status = page.locator(".status")
        for turns in range(1, MAX_ANSWERS + 1):
            if "Coding" in await status.inner_text():
                break
            await page.get_by_label("Your answer").fill(f"{ANSWER} ({turns})")  # the same text twice is a replay
            await page.get_by_role("button", name="Send answer").click()
            # The answer and the reply both appear in the transcript.
            await expect(transcript.get_by_role("listitem")).to_have_count(1 + 2 * turns, timeout=20_000)
            await expect(page.get_by_label("Your answer")).to_have_value("")
            await page.wait_for_timeout(1600)  # the room's state is polled: the stage shows within a poll
        await expect(status).to_contain_text("Coding")
        await expect(transcript.get_by_role("listitem").nth(1)).to_contain_text(f"{ANSWER} (1)")
        await shot(page, "2-room-coding")

        hint = page.get_by_role("button", name="Ask for a hint (3 left)")
        await hint.click()
        await expect(page.get_by_role("list", name="Hints").get_by_role("listitem")).to_contain_text("Hint 1 of")
        await expect(page.get_by_role("button", name="Ask for a hint (2 left)")).to_be_enabled()

        await page.locator(".cm-content").click()
        await page.keyboard.insert_text(CODE)
        await page.get_by_role("button", name="Run tests and submit").click()
        review = page.get_by_role("region", name="Code review")
        await expect(review.get_by_role("heading", level=3)).to_contain_text("Attempt 1:", timeout=30_000)
        # Whatever the question, the review comes from running the code: here it names why it did not load.
        await expect(review.get_by_role("list", name="Findings")).to_contain_text("correctness")
        await expect(review.get_by_role("list", name="Findings")).not_to_contain_text('{"type"')  # words, not JSON
        await shot(page, "3-review")

        await page.set_viewport_size({"width": 390, "height": 844})
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the room is {overflow}px wider than a phone's screen"
        await shot(page, "4-room-phone")
        await page.set_viewport_size({"width": 1280, "height": 900})

        await page.get_by_role("button", name="End interview").click()
        await expect(page.get_by_role("heading", name="Report")).to_be_visible()
        await expect(page.locator(".score")).to_contain_text("/ 5", timeout=30_000)
        await expect(page.get_by_role("table")).to_contain_text("Evidence")
        await expect(page.get_by_text("Scored by")).to_be_visible()
        await shot(page, "5-report")
        await page.get_by_role("navigation").get_by_role("link", name="Dashboard").click()
        await expect(page.get_by_role("list", name="Finished")).to_contain_text("/ 5 (scored by offline:question-bank")
        await browser.close()
    assert errors == []


async def test_the_page_loads_only_its_own_assets_and_talks_only_to_the_api_and_livekit(
    api: httpx.AsyncClient, endpoints: Endpoints
) -> None:
    assert (await api.get("/")).headers["location"] == "/app"
    page = await api.get("/app")  # no token: the page signs in by itself
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert f"connect-src 'self' {endpoints.livekit_url}" in policy  # the call; nothing else leaves the page
    assert "microphone=(self)" in page.headers["permissions-policy"]
    script = await api.get("/app/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert (await api.get("/app/static/../../stack/settings.py")).status_code == 404
    # The API's own answers keep the locked-down policy.
    assert (await api.get("/health")).headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def answer_wav(path: Path, text: str, silence_before: float) -> Path:
    """`text` spoken by espeak-ng after `silence_before` seconds of silence (the opening question is heard first),
    then a few seconds of silence: Chromium's fake microphone plays it once."""
    spoken = subprocess.run(["espeak-ng", "--stdout", text], capture_output=True, check=True).stdout
    with wave.open(io.BytesIO(spoken)) as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
    quiet = b"\0" * params.sampwidth * params.nchannels
    with wave.open(str(path), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(quiet * int(params.framerate * silence_before) + frames + quiet * params.framerate * 4)
    return path


async def test_a_candidate_answers_by_voice_in_the_browser_and_hears_the_reply(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    email = f"voice-{uuid.uuid4().hex[:10]}@test.mocki.local"
    signed = await api.post("/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Vera"})
    tokens = signed.text
    wav = answer_wav(tmp_path / "answer.wav", VOICE_ANSWER, silence_before=12)
    microphone = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    async with voice_agent(settings, endpoints, tmp_path), async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *microphone,
                f"--use-file-for-fake-audio-capture={wav}%noloop",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        page = await signed_in(browser, tokens)
        await page.goto(f"{api.base_url}/app")
        await page.get_by_role("button", name="Start a practice interview").click()
        transcript = page.get_by_role("list", name="Transcript")
        await expect(transcript.get_by_role("listitem")).to_have_count(1, timeout=20_000)

        await page.get_by_role("button", name="Join by voice").click()
        await expect(page.get_by_role("button", name="Leave the call")).to_be_visible(timeout=20_000)
        # The agent joins and says the question aloud; the page shows who is speaking.
        await expect(page.locator(".speaking")).to_contain_text("Speaking: the AI interviewer", timeout=20_000)
        # The fake microphone speaks the answer; the agent transcribes it and the AI's reply follows it.
        # (Whisper may hear it as more than one turn, or mishear a word: the answer's words are what count.)
        candidate_turns = transcript.locator(".turn.candidate")
        await expect(candidate_turns.filter(has_text=re.compile("experience|payments"))).not_to_have_count(
            0, timeout=60_000
        )
        await expect(transcript.locator(".turn.ai").nth(1)).to_be_visible(timeout=30_000)  # a reply after the opening
        await shot(page, "6-voice")
        await page.get_by_role("button", name="Leave the call").click()
        await expect(page.get_by_text("Not in the call.")).to_be_visible()
        await browser.close()


async def test_a_recruiter_makes_a_room_for_a_candidate_shares_it_takes_over_and_hands_back(
    api: httpx.AsyncClient,
) -> None:
    accounts = {}
    for role in ("recruiter", "candidate"):
        email = f"{role}-{uuid.uuid4().hex[:10]}@test.mocki.local"
        body = {"email": email, "password": PASSWORD, "display_name": role.title(), "role": role}
        accounts[role] = (email, (await api.post("/auth/signup", json=body)).text)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        recruiter = await signed_in(browser, accounts["recruiter"][1])
        await recruiter.goto(f"{api.base_url}/app")
        await recruiter.get_by_label("Candidate's email").fill(accounts["candidate"][0])
        await recruiter.get_by_role("button", name="Create the room").click()
        await expect(recruiter.get_by_role("heading", name="Backend Engineer interview with Candidate")).to_be_visible()
        shared = await recruiter.locator("code").inner_text()  # the link shown to share with the candidate
        assert "#/room/" in shared

        await recruiter.get_by_role("button", name="Take over from the AI").click()
        await expect(recruiter.locator(".status")).to_contain_text("a person is interviewing")
        await shot(recruiter, "7-recruiter-took-over")

        # The candidate opens the shared link: the same room, with a person interviewing.
        candidate = await signed_in(browser, accounts["candidate"][1])
        await candidate.goto(shared)
        await expect(candidate.locator(".status")).to_contain_text("a person is interviewing")
        await expect(candidate.get_by_role("button", name="Take over from the AI")).to_be_hidden()
        await expect(candidate.get_by_label("Your answer")).to_be_visible()

        await recruiter.get_by_role("button", name="Hand back to the AI").click()
        await expect(recruiter.locator(".status")).to_contain_text("the AI is interviewing")
        await expect(candidate.locator(".status")).to_contain_text("the AI is interviewing", timeout=10_000)

        await recruiter.get_by_role("link", name="Dashboard").click()
        in_progress = recruiter.get_by_role("list", name="In progress")
        await expect(in_progress).to_contain_text("Backend Engineer — Candidate")
        await shot(recruiter, "8-recruiter-dashboard")
        await browser.close()


async def test_a_candidate_uploads_a_resume_and_practises_from_it(api: httpx.AsyncClient, tmp_path: Path) -> None:
    email = f"resume-{uuid.uuid4().hex[:10]}@test.mocki.local"
    signed = await api.post("/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Ada"})
    resume = tmp_path / "Ada_Lovelace_CV.pdf"
    resume.write_bytes(pdf(RESUME))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await signed_in(browser, signed.text)
        await page.goto(f"{api.base_url}/app")
        await page.get_by_role("button", name="Upload").click()
        await expect(page.get_by_text("Choose a file")).to_be_visible()  # said, not sent
        await page.get_by_label("Kind").select_option("resume")
        await page.get_by_label("File").set_input_files(resume)
        await page.get_by_role("button", name="Upload").click()
        documents = page.get_by_role("list", name="Your documents")
        await expect(documents).to_contain_text("Resume: Ada_Lovelace_CV.pdf", timeout=30_000)
        for _ in range(60):  # indexed in the background: the dashboard shows it ready when it is
            if "(ready)" in await documents.inner_text():
                break
            await page.reload()
            await page.wait_for_timeout(500)
        await page.get_by_label("Plan from my resume (optional)").select_option(label="Ada_Lovelace_CV.pdf")
        await page.get_by_role("button", name="Start a practice interview").click()
        transcript = page.get_by_role("list", name="Transcript")
        await expect(transcript.get_by_role("listitem")).to_have_count(1, timeout=20_000)
        # The interview is planned from the resume, and the transcript says where a question came from.
        opening = transcript.get_by_role("listitem").first
        await expect(opening).to_contain_text("Senior Backend Engineer at Acme Payments")
        await expect(opening.locator(".source")).to_contain_text("asked from your documents: experience")
        await shot(page, "9-from-resume")

        # A job description pasted as text is listed beside the resume.
        await page.get_by_role("link", name="Dashboard").click()
        await page.get_by_label("Kind").select_option("jd")
        await page.get_by_label("…or paste a job description").fill(JOB_DESCRIPTION)
        await page.get_by_role("button", name="Upload").click()
        await expect(page.get_by_role("list", name="Your documents")).to_contain_text("Job description: pasted text")
        await browser.close()


async def test_a_candidate_follows_an_application_on_its_timeline_page(api: httpx.AsyncClient) -> None:
    email = f"timeline-{uuid.uuid4().hex[:10]}@test.mocki.local"
    signed = await api.post("/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Ada"})
    auth = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    made = await api.post("/applications", json={"company": "Fabrikam", "position": "Backend Engineer"}, headers=auth)
    assert made.status_code == 201, made.text
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await signed_in(browser, signed.text)
        await page.goto(f"{api.base_url}/app")
        await page.get_by_role("link", name="Fabrikam, Backend Engineer").click()
        await expect(page.get_by_role("heading", name="Fabrikam, Backend Engineer")).to_be_visible()
        timeline = page.locator(".timeline")
        await expect(timeline.get_by_role("listitem")).to_have_count(1)
        await expect(timeline).to_contain_text("Added by hand")

        await page.get_by_label("Status", exact=True).select_option("interview_scheduled")
        await page.get_by_role("button", name="Save").click()
        await expect(timeline.get_by_role("listitem")).to_have_count(2)
        await expect(page.get_by_text("Now: interview scheduled")).to_be_visible()
        await shot(page, "10-application-timeline")
        await browser.close()


async def test_a_recruiter_writes_changes_and_retires_a_question_in_the_bank(api: httpx.AsyncClient) -> None:
    email = f"bank-{uuid.uuid4().hex[:10]}@test.mocki.local"
    body = {"email": email, "password": PASSWORD, "display_name": "Rita", "role": "recruiter"}
    signed = await api.post("/auth/signup", json=body)
    word = f"quokka{uuid.uuid4().hex[:6]}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await signed_in(browser, signed.text)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{api.base_url}/app")
        await page.get_by_role("link", name="Question bank").click()
        await expect(page.get_by_role("heading", name="Question bank")).to_be_visible()
        await page.get_by_label("Stage").select_option("coding")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.get_by_role("link", name="code-two-sum")).to_be_visible()
        await expect(page.get_by_role("link", name="intro-1")).to_be_hidden()
        await shot(page, "11-question-bank")
        await page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls, not the page
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await shot(page, "11-question-bank-phone")
        await page.set_viewport_size({"width": 1280, "height": 900})

        await page.get_by_role("link", name="Write a question").click()
        await page.get_by_label("Stage").select_option("knowledge")
        await page.get_by_label("Roles").fill(word)
        await page.get_by_label("Question", exact=True).fill("How would you keep a cache and its database in step?")
        await page.get_by_label("Topics").fill("redis, basket weaving")
        await page.get_by_role("button", name="Add to the bank").click()
        # Refused with the API's reasons, nothing stored: a knowledge question needs key points, a known topic.
        alert = page.locator("form .error")
        await expect(alert).to_contain_text("basket weaving")
        await expect(alert).to_contain_text("key points")
        await page.get_by_label("Topics").fill("redis")
        key_points = "invalidation: invalidate, ttl\nwrite path: write-through, write through"
        await page.get_by_label("Key points").fill(key_points)
        await page.get_by_role("button", name="Add to the bank").click()
        await expect(page.get_by_role("heading", name=re.compile(r"^team-how-would-you-keep-a-"))).to_be_visible()
        await expect(page.get_by_text("Written by you; asked only in rooms its writer makes")).to_be_visible()
        question_id = (await page.get_by_role("heading", level=1).inner_text()).strip()

        await page.get_by_label("Question", exact=True).fill("How do you keep a cache and its database in step?")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.locator("#notice")).to_have_text("Saved.")
        await page.get_by_role("button", name="Retire").click()
        await expect(page.get_by_text("retired: new interviews do not ask it")).to_be_visible()
        await shot(page, "12-question-retired")
        await page.get_by_role("button", name="Restore").click()
        await expect(page.get_by_role("button", name="Retire")).to_be_visible()

        # A shared starter question is read-only for a recruiter.
        await page.goto(f"{api.base_url}/app#/questions/intro-1")
        await expect(page.get_by_text("Only an admin may change a shared question")).to_be_visible()
        await expect(page.get_by_label("Question", exact=True)).to_be_disabled()

        # Creating a room, the recruiter may pin one of the bank's coding questions.
        await page.get_by_role("link", name="Dashboard").click()
        await expect(
            page.get_by_label("Coding question").locator("option", has_text="code-two-sum (easy)")
        ).to_have_count(1)
        assert not errors, errors
        await browser.close()

    auth = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    stored = (await api.get(f"/questions/{question_id}", headers=auth)).json()
    assert stored["question"]["text"] == "How do you keep a cache and its database in step?"
    assert stored["question"]["key_points"][1] == {"name": "write path", "cues": ["write-through", "write through"]}
    assert not stored["retired"] and not stored["shared"]


async def test_a_page_still_loading_does_not_draw_over_the_next_one(api: httpx.AsyncClient) -> None:
    body = {"email": f"slow-{uuid.uuid4().hex[:10]}@test.mocki.local", "password": PASSWORD, "role": "recruiter"}
    signed = await api.post("/auth/signup", json={**body, "display_name": "Sol"})
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await signed_in(browser, signed.text)

        async def slowly(route: Route) -> None:  # a dashboard whose rooms arrive late, as on a slow network
            await asyncio.sleep(2)
            await route.continue_()

        await page.route(re.compile(r"/rooms(\?.*)?$"), slowly)
        await page.goto(f"{api.base_url}/app")
        await page.get_by_role("link", name="Question bank").click()  # while the dashboard is still loading
        await expect(page.get_by_role("heading", name="Question bank")).to_be_visible()
        await page.get_by_label("Stage").select_option("coding")
        await page.get_by_role("button", name="Filter").click()  # still before the dashboard's rooms arrive
        await expect(page.get_by_role("link", name="code-two-sum")).to_be_visible()
        await asyncio.sleep(3)  # the dashboard's rooms have arrived by now
        await expect(page.get_by_role("heading", name="Question bank")).to_be_visible()
        await expect(page.get_by_role("link", name="intro-1")).to_be_hidden()  # the bank is still filtered
        await expect(page.get_by_label("Stage")).to_have_value("coding")
        await page.go_back()  # the filter was a step of its own
        await expect(page.get_by_role("link", name="intro-1")).to_be_visible()
        await browser.close()


async def test_a_report_link_to_someone_else_s_room_says_there_is_none_instead_of_waiting(
    api: httpx.AsyncClient,
) -> None:
    owner, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=owner)).json()["room_id"]
    assert (await api.post(f"/rooms/{room_id}/end", headers=owner)).status_code == 202
    body = {"email": f"other-{uuid.uuid4().hex[:10]}@test.mocki.local", "password": PASSWORD, "role": "candidate"}
    other = await api.post("/auth/signup", json={**body, "display_name": "Oz"})
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await signed_in(browser, other.text)
        await page.goto(f"{api.base_url}/app#/report/{room_id}")
        # The report's 404 means "not written yet" and "no such room" alike; only the first is worth waiting for.
        await expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
        await expect(page.get_by_text(f"no room {room_id}")).to_be_visible()
        await browser.close()
