from pathlib import Path

from piccolo.conf.apps import AppConfig

from schema.tables import (
    Application,
    ApplicationEvent,
    AppUser,
    CodeSubmission,
    Document,
    DocumentChunk,
    InterviewContext,
    InterviewReport,
    MailMessage,
    Question,
    RefreshToken,
    ReplyAudio,
    Room,
    RoomInterviewer,
    TranscriptTurn,
)

APP_CONFIG = AppConfig(
    app_name="mocki",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[
        AppUser,
        RefreshToken,
        Room,
        RoomInterviewer,
        Document,
        DocumentChunk,
        TranscriptTurn,
        InterviewReport,
        CodeSubmission,
        InterviewContext,
        Question,
        ReplyAudio,
        Application,
        MailMessage,
        ApplicationEvent,
    ],
)
