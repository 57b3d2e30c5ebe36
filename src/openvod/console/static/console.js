// openvod console: a little plain JavaScript (no framework, no build step). Served from the Python
// package; the pages' Content-Security-Policy allows no inline script.
"use strict";
(function () {
  const csrf = document.body.dataset.csrf || "";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // Timeline geometry comes as data-l / data-w (percent), applied here (no inline styles under the CSP).
  $$("[data-l]").forEach((el) => {
    el.style.left = el.dataset.l + "%";
    el.style.width = el.dataset.w + "%";
  });

  // Forms that need a confirmation (delete, remove).
  $$("form.confirm").forEach((f) => f.addEventListener("submit", (ev) => {
    if (!window.confirm(f.dataset.confirm || "?")) ev.preventDefault();
  }));

  // New AI template: a type's example config replaces the text until the user has changed it.
  const tplType = $("#new-template-type");
  if (tplType) {
    const cfg = $("#new-template-config");
    const examples = Array.from(tplType.options).map((o) => o.dataset.example);
    tplType.addEventListener("change", () => {
      if (!cfg.value.trim() || examples.includes(cfg.value)) cfg.value = tplType.selectedOptions[0].dataset.example;
    });
  }

  function seek(video, t) {
    if (!video) return;
    const go = () => { video.currentTime = t; };
    if (video.readyState >= 1) go(); else video.addEventListener("loadedmetadata", go, { once: true });
  }

  // ------------------------------------------------------------------ upload
  const zone = $("#dropzone");
  if (zone) {
    const list = $("#uploads");
    const input = $("#files");
    const max = Number(zone.dataset.max || 0);
    const send = (file) => {
      const li = document.createElement("li");
      li.className = "upload";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      const st = document.createElement("span");
      st.className = "state";
      li.append(name, bar, st);
      list.append(li);
      if (max && file.size > max) {
        li.classList.add("failed");
        st.textContent = zone.dataset.failed + ": FileTooLarge: > " + max + " bytes";
        return;
      }
      const fail = (code, message) => {
        li.classList.add("failed");
        st.textContent = zone.dataset.failed + ": " + code + ": " + (message || "");
      };
      const json = async (r) => {
        try { return await r.json(); } catch (e) { return { Code: "HTTP" + r.status, Message: r.statusText }; }
      };
      // 1. CreateUploadVideo (through the console): the address, credentials and a signed PostObject form.
      const ask = new URLSearchParams({ name: file.name, size: String(file.size) });
      fetch("/console/upload/address", { method: "POST", credentials: "same-origin", body: ask,
                                          headers: { "X-CSRF-Token": csrf } })
        .then(async (r) => {
          const addr = await json(r);
          if (r.status === 401) { location.href = "/console/login?expired=1"; return; }
          if (!r.ok) { fail(addr.Code || r.status, addr.Message); return; }
          li.dataset.video = addr.VideoId;
          // 2. PostObject straight to the OSS-compatible endpoint; the file goes last, as OSS wants.
          const form = new FormData();
          Object.entries(addr.Post.Fields).forEach(([k, v]) => form.append(k, v));
          form.append("file", file, file.name);
          const xhr = new XMLHttpRequest();
          xhr.open("POST", addr.Post.URL);
          xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.min(99, Math.floor(100 * e.loaded / e.total)); };
          xhr.onload = async () => {
            if (xhr.status < 200 || xhr.status >= 300) {
              // The endpoint's own answer: OSS XML <Error><Code/><Message/></Error>.
              const doc = new DOMParser().parseFromString(xhr.responseText || "<Error/>", "application/xml");
              const pick = (tag) => { const el = doc.getElementsByTagName(tag)[0]; return el ? el.textContent : ""; };
              fail(pick("Code") || "HTTP" + xhr.status, pick("Message") || xhr.statusText);
              return;
            }
            // 3. The object was committed as an SDK upload is (probe, status, events): how did it go?
            const r2 = await fetch(`/console/upload/${addr.VideoId}.json`, { credentials: "same-origin" });
            const body = await json(r2);
            if (!r2.ok) { fail(body.Code || r2.status, body.Message); return; }
            bar.value = 100;
            li.classList.add("done");
            st.textContent = zone.dataset.ok + " · ";
            const a = document.createElement("a");
            a.href = "/console/video/" + addr.VideoId;
            a.textContent = zone.dataset.open;
            st.append(a);
          };
          xhr.onerror = () => fail("NetworkError", "the connection to the object endpoint failed");
          xhr.send(form);
        })
        .catch((e) => fail("NetworkError", (e && e.message) || String(e)));
    };
    const take = (files) => Array.from(files).forEach(send);
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); take(e.dataTransfer.files); });
    input.addEventListener("change", () => { take(input.files); input.value = ""; });
  }

  // ------------------------------------------------------------------ video page
  const stateEl = $("#state");
  if (stateEl) {
    const state = JSON.parse(stateEl.textContent);
    const player = $("#player");
    const table = $("#video-jobs tbody");
    const running = (s) => s === "init" || s === "processing";
    const known = new Map(state.jobs.map((j) => [j.JobId, j.Status]));
    let timer = null;

    const render = (jobs) => {
      let finished = false;
      jobs.slice().reverse().forEach((j) => {
        let tr = table.querySelector(`tr[data-job="${j.JobId}"]`);
        if (!tr) {
          tr = document.createElement("tr");
          tr.dataset.job = j.JobId;
          tr.innerHTML = '<td></td><td class="st"></td><td><progress max="100" value="0"></progress> <span class="pct"></span>%</td><td class="msg"></td>';
          tr.children[0].textContent = j.Type;
          table.prepend(tr);
        }
        tr.dataset.status = j.Status;
        tr.querySelector(".st").textContent = j.Status;
        tr.querySelector("progress").value = Number(j.Progress);
        tr.querySelector(".pct").textContent = j.Progress;
        tr.querySelector(".msg").textContent = j.Status === "fail" ? j.Code + ": " + j.Message : "";
        const before = known.get(j.JobId);
        if ((before === undefined || running(before)) && !running(j.Status)) finished = true;
        known.set(j.JobId, j.Status);
      });
      return finished;
    };
    const poll = async () => {
      timer = null;
      let body;
      try {
        const r = await fetch(`/console/video/${state.media_id}/state.json`, { credentials: "same-origin" });
        if (r.status === 401) { location.href = "/console/login?expired=1"; return; }
        body = await r.json();
      } catch (e) { timer = setTimeout(poll, 2000); return; }
      const finished = render(body.jobs);
      const busy = body.jobs.some((j) => running(j.Status));
      if (finished && !busy) { location.reload(); return; }  // results are rendered by the server
      if (busy) timer = setTimeout(poll, 700);
    };
    if (state.jobs.some((j) => running(j.Status))) timer = setTimeout(poll, 700);

    $$("form.job-form").forEach((f) => f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = $("#job-error");
      err.hidden = true;
      const r = await fetch(f.action, {
        method: "POST", body: new URLSearchParams(new FormData(f)), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) { err.textContent = (body.Code || r.status) + ": " + (body.Message || ""); err.hidden = false; return; }
      body.JobIds.forEach((id) => known.set(id, undefined));
      if (!timer) poll();
    }));

    // Copies: a segment seeks this video's players to Input.Start and the library video's to Duplication.Start.
    $$(".copy").forEach((card) => {
      const other = $(".other-player", card);
      const mirror = $(".mirror-a", card);
      $$(".seg", card).forEach((b) => b.addEventListener("click", () => {
        const a = Number(b.dataset.a), d = Number(b.dataset.b);
        seek(player, a); seek(mirror, a); seek(other, d);
        $$(".seg.on", card).forEach((x) => x.classList.remove("on"));
        $$(`.seg[data-a="${b.dataset.a}"]`, card).forEach((x) => x.classList.add("on"));
      }));
    });

    // Tag lanes and transcript: click to seek; the word being spoken is highlighted.
    $$(".mark").forEach((m) => m.addEventListener("click", () => seek(player, Number(m.dataset.t))));
    const words = $$("#transcript .w");
    words.forEach((w) => w.addEventListener("click", () => { seek(player, Number(w.dataset.s)); mark(Number(w.dataset.s)); }));
    const heads = $$(".playhead");
    const dur = () => (player && player.duration) || 1;
    let current = null;
    const mark = (t) => {
      let hit = null;
      for (const w of words) {
        if (Number(w.dataset.s) <= t + 1e-3) hit = w; else break;
      }
      if (hit && t > Number(hit.dataset.e) + 0.6) hit = null;
      if (hit !== current) {
        if (current) current.classList.remove("now");
        if (hit) hit.classList.add("now");
        current = hit;
      }
      heads.forEach((h) => { h.style.left = (100 * t / dur()) + "%"; });
    };
    if (player) {
      player.addEventListener("timeupdate", () => mark(player.currentTime));
      player.addEventListener("seeked", () => mark(player.currentTime));
    }
  }
})();
