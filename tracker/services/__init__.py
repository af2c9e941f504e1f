"""Operations on stories, feeds and archives shared by the CLI and the web UI."""
