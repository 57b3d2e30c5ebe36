"""The account's face library: named people and the unknown people seen in its videos.

A service (it reads and writes the ``face_people`` / ``face_examples`` tables); the AIVideoTag
analyzer reaches it only through ``openvod.domain.interfaces.FaceLibrary`` (``FaceService.for_account``).

* ``add_person(name, images)`` — the operator names a person with example photographs
  (``openvod face add``); each example's embedding is kept.
* ``identify(clusters)`` — after a job, each face cluster of the video is matched against the
  library: nearest named example or unknown person's centroid within ``match_distance`` wins. An
  unmatched cluster becomes a new unknown person (``Unknown-<8 hex>``) whose centroid later videos
  match, so the same unknown person keeps one PersonId across the account. A matched unknown
  person's centroid moves towards the new sighting (running mean).
* ``name_person(person_id, name)`` — give an unknown person a name (its id stays).

Matching and inserting happen in one transaction; two jobs that see the same new person at the same
moment may still create two unknown people (a later ``merge`` is not implemented).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, insert, select, update

from openvod.domain.interfaces import FaceMatch
from openvod.store.tables import face_examples, face_people
from openvod.util import new_id


@dataclass
class LibraryPerson:
    """One person of the library."""

    id: str
    name: str
    source: str
    backend: str
    samples: int
    examples: int
    face_key: str
    created_at: float

    @property
    def tag(self) -> str:
        return self.name or unknown_tag(self.id)


# The library person a cluster was matched to (or created as).
Match = FaceMatch


def unknown_tag(person_id: str) -> str:
    return f"Unknown-{person_id[:8]}"


def _vec(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype=np.float32)


class FaceLibrary:
    """Face library operations of one account."""

    def __init__(self, engine: Engine, account_id: str, backend: str):
        self.engine = engine
        self.account_id = account_id
        self.backend = backend

    # ------------------------------------------------------------------ operator
    def add_person(self, name: str, embeddings: list[tuple[str, np.ndarray]], face_key: str = "") -> str:
        """Create a named person from example embeddings (source label, vector); returns its id."""
        if not name.strip():
            raise ValueError("a library person needs a name")
        if not embeddings:
            raise ValueError("no face found in the example images")
        pid, t = new_id(), time.time()
        centroid = np.mean([e for _, e in embeddings], axis=0).astype(np.float32)
        with self.engine.begin() as conn:
            conn.execute(insert(face_people).values(
                id=pid, account_id=self.account_id, name=name.strip(), source="library", backend=self.backend,
                embedding=centroid.tobytes(), samples=len(embeddings), face_key=face_key, created_at=t, modified_at=t))
            conn.execute(insert(face_examples), [
                {"id": new_id(), "account_id": self.account_id, "person_id": pid, "backend": self.backend,
                 "embedding": e.astype(np.float32).tobytes(), "source": src[:512], "created_at": t}
                for src, e in embeddings])
        return pid

    def name_person(self, person_id: str, name: str) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(update(face_people).where(
                face_people.c.account_id == self.account_id, face_people.c.id == person_id
            ).values(name=name.strip(), source="library", modified_at=time.time())).rowcount
        return bool(n)

    def remove_person(self, person_id: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(delete(face_examples).where(face_examples.c.account_id == self.account_id,
                                                     face_examples.c.person_id == person_id))
            n = conn.execute(delete(face_people).where(face_people.c.account_id == self.account_id,
                                                       face_people.c.id == person_id)).rowcount
        return bool(n)

    def people(self) -> list[LibraryPerson]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(face_people).where(face_people.c.account_id == self.account_id)
                                .order_by(face_people.c.created_at, face_people.c.id)).all()
            counts: dict[str, int] = {}
            for r in conn.execute(select(face_examples.c.person_id).where(face_examples.c.account_id == self.account_id)):
                counts[r.person_id] = counts.get(r.person_id, 0) + 1
        return [LibraryPerson(r.id, r.name, r.source, r.backend, r.samples, counts.get(r.id, 0), r.face_key, r.created_at)
                for r in rows]

    # ------------------------------------------------------------------ jobs
    def identify(self, centroids: list[np.ndarray], match_distance: float,
                 face_keys: list[str] | None = None, source: str = "") -> list[Match]:
        """Match each cluster centroid to the library (creating unknown people); one transaction."""
        out: list[Match] = []
        t = time.time()
        with self.engine.begin() as conn:
            people = {r.id: r for r in conn.execute(select(face_people).where(
                face_people.c.account_id == self.account_id, face_people.c.backend == self.backend))}
            examples = conn.execute(select(face_examples.c.person_id, face_examples.c.embedding).where(
                face_examples.c.account_id == self.account_id, face_examples.c.backend == self.backend)).all()
            cand_ids: list[str] = []
            cand_vecs: list[np.ndarray] = []
            for r in examples:
                if r.person_id in people:
                    cand_ids.append(r.person_id)
                    cand_vecs.append(_vec(r.embedding))
            for pid, r in people.items():
                cand_ids.append(pid)
                cand_vecs.append(_vec(r.embedding))
            taken: set[str] = set()
            for i, c in enumerate(centroids):
                best: tuple[float, str] | None = None
                if cand_vecs:
                    d = np.linalg.norm(np.stack(cand_vecs) - c[None, :], axis=1)
                    for k in np.argsort(d):
                        pid = cand_ids[int(k)]
                        if float(d[k]) > match_distance:
                            break
                        if pid not in taken:  # two clusters of one video are two people
                            best = (float(d[k]), pid)
                            break
                if best is not None:
                    dist, pid = best
                    taken.add(pid)
                    row = people[pid]
                    if row.source == "auto":
                        n = row.samples
                        new = ((_vec(row.embedding) * n + c) / (n + 1)).astype(np.float32)
                        conn.execute(update(face_people).where(face_people.c.id == pid).values(
                            embedding=new.tobytes(), samples=n + 1, modified_at=t))
                    out.append(Match(pid, row.name or unknown_tag(pid), bool(row.name), dist, False))
                    continue
                pid = new_id()
                taken.add(pid)
                conn.execute(insert(face_people).values(
                    id=pid, account_id=self.account_id, name="", source="auto", backend=self.backend,
                    embedding=c.astype(np.float32).tobytes(), samples=1,
                    face_key=(face_keys[i] if face_keys else ""), created_at=t, modified_at=t))
                out.append(Match(pid, unknown_tag(pid), False, None, True))
        return out


def person_record(p: LibraryPerson) -> dict[str, Any]:
    return {"PersonId": p.id, "Tag": p.tag, "Name": p.name, "Source": p.source, "Backend": p.backend,
            "Samples": p.samples, "Examples": p.examples}


class AccountFaces:
    """``FaceLibrary`` (the analyzer's interface) over one account's library."""

    def __init__(self, engine: Engine, account_id: str):
        self.engine = engine
        self.account_id = account_id

    def identify(self, backend: str, centroids: list[Any], match_distance: float, face_keys: list[str],
                 source: str = "") -> list[FaceMatch]:
        return FaceLibrary(self.engine, self.account_id, backend).identify(centroids, match_distance, face_keys,
                                                                          source=source)


class FaceService:
    """The face libraries of all accounts (ListFaceLibrary, ``openvod face``, jobs)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def for_account(self, account_id: str) -> AccountFaces:
        return AccountFaces(self.engine, account_id)

    def library(self, account_id: str, backend: str = "") -> FaceLibrary:
        return FaceLibrary(self.engine, account_id, backend)
