/* This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
   level of this repository contains the full copyright notices and license
   terms. */
/* The order board: reads and moves orders through JSON-RPC with the web
   client's session (the cookie of /<database>), so the user's access rights
   and record rules apply to every call. */
(function() {
    'use strict';

    const database = decodeURIComponent(
        window.location.pathname.split('/')[1]);
    const texts = JSON.parse(document.getElementById('texts').textContent);
    const CHANNEL = 'backoffice.order.board';
    const POLL = 2000;
    // beside the bus, in case a message was lost (a server restart)
    const SAFETY_POLL = 30000;
    const FILTERS = ['text', 'party', 'zone', 'driver', 'priority', 'label',
        'date_from', 'date_to'];
    const NUMBERS = ['party', 'zone', 'driver'];

    const state = {
        context: {},
        stages: [],
        // {stage id: number of cards loaded}, kept across reloads
        sizes: {},
        selected: new Set(),
        // {order id: message} shown on the cards after a refused move
        errors: {},
        stamp: null,
        loading: null,
        clients: {},
    };
    const board = document.getElementById('board');
    const form = document.getElementById('filters');
    const banner = document.getElementById('message');

    class RPCError extends Error {}

    async function rpc(method, params) {
        const response = await fetch(`/${encodeURIComponent(database)}/rpc/`, {
            method: 'POST',
            credentials: 'same-origin',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({
                id: 0, method: method,
                params: [...params, state.context]}),
        });
        if (response.status === 401 || response.status === 403) {
            // the session ended: the web client's login, then back here
            window.location.reload();
            throw new RPCError(response.statusText);
        }
        const answer = await response.json();
        if (answer.error) {
            const [kind, args] = answer.error;
            const message = Array.isArray(args) ? args[0] : args;
            throw new RPCError(typeof message === 'string' ?
                message : String(kind));
        }
        return answer.result;
    }

    function show(message) {
        banner.textContent = message || '';
        banner.hidden = !message;
    }

    function element(tag, attributes, ...children) {
        const node = document.createElement(tag);
        for (const [key, value] of Object.entries(attributes || {})) {
            if (key === 'dataset') {
                Object.assign(node.dataset, value);
            } else if (key.startsWith('on')) {
                node.addEventListener(key.slice(2), value);
            } else {
                node.setAttribute(key, value);
            }
        }
        for (const child of children) {
            if (child !== null && child !== undefined) {
                node.append(child);
            }
        }
        return node;
    }

    // The filters live in the URL, so a board can be bookmarked and shared
    function readFilters() {
        const params = new URLSearchParams(window.location.search);
        const filters = {};
        for (const name of FILTERS) {
            const value = params.get(name);
            if (value) {
                filters[name] = NUMBERS.includes(name) ?
                    Number(value) : value;
            }
        }
        return filters;
    }

    function writeFilters(filters) {
        const params = new URLSearchParams();
        for (const [name, value] of Object.entries(filters)) {
            params.set(name, value);
        }
        const query = params.toString();
        window.history.replaceState(null, '',
            window.location.pathname + (query ? '?' + query : ''));
    }

    function formFilters() {
        const filters = {};
        for (const name of FILTERS) {
            let value;
            if (name === 'party') {
                value = state.clients[form.elements.party_name.value];
            } else {
                value = form.elements[name].value;
            }
            if (value) {
                filters[name] = NUMBERS.includes(name) ? Number(value) : value;
            }
        }
        return filters;
    }

    function amount(value, currency) {
        const number = Number(value && value.decimal !== undefined ?
            value.decimal : value);
        return number.toLocaleString(state.context.language || undefined, {
            minimumFractionDigits: 2, maximumFractionDigits: 2}) +
            (currency ? ' ' + currency : '');
    }

    function day(value) {
        if (!value) {
            return '';
        }
        const date = new Date(value.year, value.month - 1, value.day);
        return date.toLocaleDateString(state.context.language || undefined);
    }

    function moveMenu(card) {
        const menu = element('select', {
            'aria-label': texts.move_to,
            onchange: () => {
                if (menu.value) {
                    move([card.id], Number(menu.value));
                }
            }},
            element('option', {value: ''}, texts.move_to));
        for (const stage of state.stages) {
            if (stage.id !== card.stage) {
                menu.append(element('option', {value: stage.id}, stage.name));
            }
        }
        return menu;
    }

    function renderCard(card) {
        const labels = element('div', {class: 'labels'});
        for (const label of card.labels) {
            labels.append(element('span', {class: 'label-' + label},
                texts[label]));
        }
        const url = `/#${encodeURIComponent(database)}/model/sale.sale/` +
            card.id;
        const select = element('input', {
            type: 'checkbox', 'aria-label': texts.selected,
            onchange: (event) => {
                if (event.target.checked) {
                    state.selected.add(card.id);
                } else {
                    state.selected.delete(card.id);
                }
                renderSelection();
                node.classList.toggle('selected', event.target.checked);
            }});
        select.checked = state.selected.has(card.id);
        const node = element('article', {
            class: 'card' + (select.checked ? ' selected' : ''),
            draggable: 'true',
            dataset: {id: card.id, stage: card.stage},
            ondragstart: (event) => {
                const ids = state.selected.has(card.id) ?
                    [...state.selected] : [card.id];
                event.dataTransfer.setData('text/plain', JSON.stringify(ids));
                event.dataTransfer.effectAllowed = 'move';
            }},
            element('div', {class: 'top'},
                element('a', {class: 'number', href: url, target: '_blank'},
                    card.number || String(card.id)),
                element('span', {class: 'priority-' + card.priority},
                    card.priority === 'urgent' || card.priority === 'high' ?
                    '⚑' : '')),
            element('div', {class: 'client'}, card.client),
            element('div', {class: 'line'},
                amount(card.untaxed, card.currency)),
            element('div', {class: 'line'},
                [day(card.delivery_date), card.delivery_window]
                .filter(Boolean).join(' · ')),
            card.driver ? element('div', {class: 'line driver'},
                card.driver) : null,
            labels,
            state.errors[card.id] ? element('div',
                {class: 'error', role: 'alert'}, state.errors[card.id]) : null,
            element('div', {class: 'actions'}, select, moveMenu(card)));
        return node;
    }

    function renderColumn(stage) {
        const cards = element('div', {class: 'cards'});
        for (const card of stage.cards) {
            cards.append(renderCard(card));
        }
        const column = element('section', {
            class: 'column',
            style: stage.colour ? `--colour: ${stage.colour}` : '',
            dataset: {stage: stage.id},
            ondragover: (event) => {
                event.preventDefault();
                column.classList.add('over');
            },
            ondragleave: () => column.classList.remove('over'),
            ondrop: (event) => {
                event.preventDefault();
                column.classList.remove('over');
                let ids;
                try {
                    ids = JSON.parse(
                        event.dataTransfer.getData('text/plain'));
                } catch (error) {
                    return;
                }
                move(ids, stage.id);
            }},
            element('h2', {}, stage.name),
            element('div', {class: 'figures'},
                element('span', {class: 'count'}, String(stage.count)),
                ` ${texts.orders} · `,
                element('span', {class: 'total'}, amount(stage.total)),
                ` ${texts.untaxed}`),
            cards);
        if (stage.cards.length < stage.count) {
            column.append(element('button', {
                class: 'more', type: 'button',
                onclick: () => more(stage)}, texts.more));
        }
        return column;
    }

    function render() {
        board.replaceChildren(...state.stages.map(renderColumn));
        renderSelection();
    }

    function renderSelection() {
        const known = new Set(state.stages.flatMap(
            (s) => s.cards.map((c) => c.id)));
        for (const id of [...state.selected]) {
            if (!known.has(id)) {
                state.selected.delete(id);
            }
        }
        const box = document.getElementById('selection');
        box.hidden = !state.selected.size;
        document.getElementById('selection-count').textContent =
            `${state.selected.size} ${texts.selected}`;
        const menu = document.getElementById('selection-move');
        menu.setAttribute('aria-label', texts.move_to);
        menu.replaceChildren(element('option', {value: ''}, texts.move_to),
            ...state.stages.map(
                (s) => element('option', {value: s.id}, s.name)));
    }

    async function load() {
        if (state.loading) {
            return state.loading;
        }
        state.loading = (async () => {
            try {
                const result = await rpc('model.sale.sale.board_load',
                    [readFilters(), state.sizes]);
                state.stages = result.stages;
                state.stamp = result.stamp;
                for (const stage of state.stages) {
                    state.sizes[stage.id] = Math.max(
                        stage.cards.length, state.sizes[stage.id] || 0);
                }
                render();
            } catch (error) {
                show(error.message);
            } finally {
                state.loading = null;
            }
        })();
        return state.loading;
    }

    async function more(stage) {
        try {
            const cards = await rpc('model.sale.sale.board_cards',
                [stage.id, readFilters(), stage.cards.length]);
            stage.cards.push(...cards);
            state.sizes[stage.id] = stage.cards.length;
            render();
        } catch (error) {
            show(error.message);
        }
    }

    async function move(ids, stage) {
        const expected = {};
        for (const column of state.stages) {
            for (const card of column.cards) {
                if (ids.includes(card.id)) {
                    expected[card.id] = card.stage;
                }
            }
        }
        ids = ids.filter((id) => id in expected && expected[id] !== stage);
        if (!ids.length) {
            return;
        }
        for (const id of ids) {
            delete state.errors[id];
            const node = board.querySelector(`.card[data-id="${id}"]`);
            const target = board.querySelector(
                `.column[data-stage="${stage}"] .cards`);
            if (node && target) {
                node.classList.add('moving');
                target.prepend(node);
            }
        }
        show('');
        try {
            const result = await rpc('model.sale.sale.board_move',
                [ids, stage, expected]);
            for (const [id, message] of Object.entries(result)) {
                if (message) {
                    state.errors[id] = message;
                } else {
                    state.selected.delete(Number(id));
                }
            }
        } catch (error) {
            show(error.message);
        }
        // a refused card goes back where the server says it is
        await load();
    }

    // Live: the bus where the server has one (PostgreSQL), else polling
    async function listen() {
        if (document.body.dataset.bus !== 'true') {
            return poll(POLL);
        }
        let last = null;
        let polling = false;
        for (;;) {
            let response;
            try {
                response = await fetch(
                    `/${encodeURIComponent(database)}/bus`, {
                        method: 'POST',
                        credentials: 'same-origin',
                        headers: {'Content-Type': 'application/json'},
                        body: JSON.stringify({
                            last_message: last, channels: [CHANNEL]}),
                    });
            } catch (error) {
                return poll(POLL);
            }
            if (!response.ok) {
                return poll(POLL);
            }
            if (!polling) {
                polling = true;
                poll(SAFETY_POLL);
            }
            const answer = await response.json();
            if (answer.message) {
                last = answer.message.message_id;
                await load();
            }
        }
    }

    async function poll(interval) {
        for (;;) {
            await new Promise(
                (resolve) => window.setTimeout(resolve, interval));
            try {
                const stamp = await rpc('model.sale.sale.board_stamp', []);
                if (stamp !== state.stamp) {
                    await load();
                }
            } catch (error) {
                show(error.message);
            }
        }
    }

    async function options() {
        const priority = await rpc('model.sale.sale.fields_get',
            [['priority']]);
        fill('priority', priority.priority.selection);
        fill('label', ['urgent', 'near_window', 'manual_review'].map(
            (l) => [l, texts[l]]));
        for (const [name, model, domain] of [
                ['zone', 'backoffice.zone', []],
                ['driver', 'company.employee',
                    [['company', '=', state.context.company]]]]) {
            try {
                const records = await rpc(`model.${model}.search_read`,
                    [domain, 0, 500, null, ['rec_name']]);
                fill(name, records.map((r) => [r.id, r.rec_name]));
            } catch (error) {
                // a user who may not read them filters without them
                form.elements[name].hidden = true;
            }
        }
    }

    function fill(name, values) {
        const select = form.elements[name];
        select.replaceChildren(
            element('option', {value: ''}, `${texts[name]}: ${texts.any}`),
            ...values.map(([value, text]) => element('option',
                {value: value}, text)));
    }

    async function findClients() {
        const text = form.elements.party_name.value;
        if (text.length < 2 || text in state.clients) {
            return;
        }
        const records = await rpc('model.party.party.search_read',
            [[['rec_name', 'ilike', `%${text}%`]], 0, 10, null,
                ['rec_name']]);
        const list = document.getElementById('clients');
        list.replaceChildren(...records.map((r) => {
            state.clients[r.rec_name] = r.id;
            return element('option', {value: r.rec_name});
        }));
    }

    async function showFilters() {
        const filters = readFilters();
        for (const name of FILTERS) {
            if (name !== 'party') {
                form.elements[name].value = filters[name] || '';
            }
        }
        if (filters.party) {
            const [party] = await rpc('model.party.party.read',
                [[filters.party], ['rec_name']]);
            state.clients[party.rec_name] = party.id;
            form.elements.party_name.value = party.rec_name;
        }
    }

    function filtersChanged() {
        writeFilters(formFilters());
        state.sizes = {};
        load();
    }

    function setUp() {
        for (const node of document.querySelectorAll('[data-text]')) {
            const text = texts[node.dataset.text];
            if (node.tagName === 'INPUT') {
                node.placeholder = text;
                node.setAttribute('aria-label', text);
            } else if (node.tagName === 'SELECT') {
                node.setAttribute('aria-label', text);
            } else {
                node.textContent = text;
            }
        }
        let typing;
        form.addEventListener('input', (event) => {
            if (event.target.name === 'party_name') {
                findClients().catch((error) => show(error.message));
            }
            window.clearTimeout(typing);
            typing = window.setTimeout(filtersChanged, 400);
        });
        form.addEventListener('reset', () => {
            window.setTimeout(filtersChanged);
        });
        form.addEventListener('submit', (event) => event.preventDefault());
        document.getElementById('selection-move').addEventListener(
            'change', (event) => {
                if (event.target.value) {
                    move([...state.selected], Number(event.target.value));
                }
            });
    }

    async function start() {
        setUp();
        try {
            state.context = await rpc('model.res.user.get_preferences',
                [true]);
            await options();
            await showFilters();
        } catch (error) {
            show(error.message);
            return;
        }
        await load();
        listen();
    }

    start();
}());
