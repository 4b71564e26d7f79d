"""Shared fixtures of the journal's integration tests: a private database on the shared server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

SERVER = "host=127.0.0.1 port=5432 user=postgres"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of the module's own on 127.0.0.1:5432, dropped after the module."""
    name = f"algowatch_journal_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER} dbname={name}"
    finally:
        with psycopg.connect(f"{SERVER} dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def dsn(database: str) -> str:
    """A fresh schema per test, so tests never see each other's journal."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    return f"{database} options='-c search_path={schema}'"
