"""Every sentence Murmur says, in English, Russian and Spanish, chosen from Telegram's language_code.

`_T` holds sentences; `_PLURALS` those that hold a number of things, in each language's plural forms
(`murmur.plurals`); `LANGUAGE_NAMES` what a hint calls a sender's Telegram language, in the reader's."""

from __future__ import annotations

from murmur import plurals

LANGUAGES = ("en", "ru", "es")

_T: dict[str, dict[str, str]] = {
    "new_message": {
        "en": "💌 New anonymous message: “{preview}”",
        "ru": "💌 Новое анонимное сообщение: «{preview}»",
        "es": "💌 Nuevo mensaje anónimo: «{preview}»",
    },
    "open": {"en": "Open", "ru": "Открыть", "es": "Abrir"},
    "open_inbox": {"en": "Open my inbox", "ru": "Открыть входящие", "es": "Abrir mi bandeja"},
    "write": {"en": "Write anonymously", "ru": "Написать анонимно", "es": "Escribir anónimamente"},
    "reply": {
        "en": "💬 Reply to your anonymous message “{preview}”:\n\n{text}",
        "ru": "💬 Ответ на ваше анонимное сообщение «{preview}»:\n\n{text}",
        "es": "💬 Respuesta a tu mensaje anónimo «{preview}»:\n\n{text}",
    },
    "welcome": {
        "en": "Welcome to Murmur! Share your link and friends can send you anonymous messages:\n{link}",
        "ru": "Добро пожаловать в Murmur! Поделитесь ссылкой — и друзья смогут писать вам анонимно:\n{link}",
        "es": "¡Bienvenido a Murmur! Comparte tu enlace y tus amigos podrán escribirte anónimamente:\n{link}",
    },
    "write_to": {
        "en": "Write an anonymous message to {name}.",
        "ru": "Напишите анонимное сообщение для {name}.",
        "es": "Escribe un mensaje anónimo para {name}.",
    },
    "help": {
        "en": (
            "Murmur is an anonymous inbox.\n"
            "• Share your personal link; anyone who opens it can write to you anonymously.\n"
            "• Each message shows a free three-word preview; read it in full for 1 ⭐, get a hint about the"
            " sender for 5 ⭐, or read everything with Plus (15 ⭐ a week) or Pro (50 ⭐ a month).\n"
            "Commands: /start — your link, /paysupport — payment help, /terms — terms and privacy,"
            " /deleteme — erase your data."
        ),
        "ru": (
            "Murmur — анонимные входящие.\n"
            "• Поделитесь личной ссылкой: любой, кто её откроет, сможет написать вам анонимно.\n"
            "• У каждого сообщения есть бесплатное превью из трёх слов; полный текст — 1 ⭐, подсказка об"
            " отправителе — 5 ⭐, всё сразу — Plus (15 ⭐ в неделю) или Pro (50 ⭐ в месяц).\n"
            "Команды: /start — ваша ссылка, /paysupport — помощь с оплатой, /terms — условия и приватность,"
            " /deleteme — удалить данные."
        ),
        "es": (
            "Murmur es un buzón anónimo.\n"
            "• Comparte tu enlace personal; cualquiera que lo abra puede escribirte anónimamente.\n"
            "• Cada mensaje muestra una vista previa gratis de tres palabras; léelo completo por 1 ⭐, obtén"
            " una pista sobre el remitente por 5 ⭐, o lee todo con Plus (15 ⭐ por semana) o Pro"
            " (50 ⭐ al mes).\n"
            "Comandos: /start — tu enlace, /paysupport — ayuda con pagos, /terms — términos y privacidad,"
            " /deleteme — borrar tus datos."
        ),
    },
    "fallback": {
        "en": (
            "I only understand a few commands. Murmur is an anonymous inbox: open the app to read your messages"
            " and share your link.\n/start — your link · /help — how it works · /paysupport — payment help"
        ),
        "ru": (
            "Я понимаю только несколько команд. Murmur — анонимные входящие: откройте приложение, чтобы читать"
            " сообщения и делиться ссылкой.\n/start — ваша ссылка · /help — как это работает · /paysupport —"
            " помощь с оплатой"
        ),
        "es": (
            "Solo entiendo unos pocos comandos. Murmur es un buzón anónimo: abre la app para leer tus mensajes y"
            " compartir tu enlace.\n/start — tu enlace · /help — cómo funciona · /paysupport — ayuda con pagos"
        ),
    },
    "open_app": {"en": "Open Murmur", "ru": "Открыть Murmur", "es": "Abrir Murmur"},
    "paysupport": {
        "en": (
            "Payment support. Murmur sells digital goods for Telegram Stars: reading a message (1 ⭐), a hint"
            " (5 ⭐), Plus for 7 days (15 ⭐), Pro monthly (50 ⭐) and gifts. If something you paid for did not"
            " arrive, or you paid by mistake, send “/paysupport” followed by what happened (for example"
            " “/paysupport paid for Plus, still locked”): we answer within 48"
            " hours and refund to your Stars balance when the purchase was not delivered or not used."
            " Telegram support cannot help with purchases made in bots."
        ),
        "ru": (
            "Поддержка платежей. Murmur продаёт цифровые товары за Telegram Stars: чтение сообщения (1 ⭐),"
            " подсказку (5 ⭐), Plus на 7 дней (15 ⭐), Pro на месяц (50 ⭐) и подарки. Если оплаченное не пришло"
            " или вы заплатили по ошибке, отправьте «/paysupport» и описание проблемы (например"
            " «/paysupport оплатил Plus, но сообщения закрыты»): ответим в течение 48"
            " часов и вернём звёзды, если покупка не была доставлена или использована. Поддержка Telegram не"
            " помогает с покупками в ботах."
        ),
        "es": (
            "Soporte de pagos. Murmur vende bienes digitales con Telegram Stars: leer un mensaje (1 ⭐), una"
            " pista (5 ⭐), Plus por 7 días (15 ⭐), Pro mensual (50 ⭐) y regalos. Si algo que pagaste no llegó"
            " o pagaste por error, envía «/paysupport» seguido de lo que pasó (por ejemplo"
            " «/paysupport pagué Plus y sigue bloqueado»): respondemos en 48 horas y"
            " reembolsamos tus Stars si la compra no se entregó o no se usó. El soporte de Telegram no puede"
            " ayudar con compras hechas en bots."
        ),
    },
    "terms": {
        "en": (
            "Terms and privacy.\n"
            "Anonymity: the people you write to never learn who you are from Murmur — except the hint clues"
            " you are shown before you send (your Telegram language, the first letter of your first name,"
            " whether you have Premium), revealed one by one only if the recipient pays for them. Murmur itself"
            " does know who sent each message: we need it to stop abuse (blocks, reports, bans) and to deliver"
            " replies. Your Telegram id, name and username are never shown to the recipient, never sent in"
            " bot messages to them and never written to our logs.\n"
            "Payments are in Telegram Stars for digital goods delivered at once; see /paysupport for refunds.\n"
            "Erase your data at any time with /deleteme or in the app's settings; the payment ledger is kept"
            " anonymized, as the law requires.\n"
            "Do not use Murmur to harass anyone: reported messages are reviewed and abusers are banned."
        ),
        "ru": (
            "Условия и приватность.\n"
            "Анонимность: получатель никогда не узнает от Murmur, кто вы, — кроме подсказок, которые показаны"
            " вам до отправки (язык Telegram, первая буква имени, есть ли Premium); они открываются по одной,"
            " только если получатель за них заплатит. Сам Murmur знает отправителя каждого сообщения: это нужно"
            " для защиты от злоупотреблений (блокировки, жалобы, баны) и доставки ответов. Ваш Telegram id, имя"
            " и username никогда не показываются получателю, не отправляются ему в сообщениях бота и не пишутся"
            " в наши логи.\n"
            "Оплата — в Telegram Stars за цифровые товары, выдаваемые сразу; возвраты — см. /paysupport.\n"
            "Удалить свои данные можно в любой момент: /deleteme или в настройках приложения; журнал платежей"
            " хранится обезличенным, как требует закон.\n"
            "Не используйте Murmur для травли: жалобы рассматриваются, нарушители блокируются."
        ),
        "es": (
            "Términos y privacidad.\n"
            "Anonimato: las personas a las que escribes nunca sabrán por Murmur quién eres, salvo las pistas"
            " que ves antes de enviar (tu idioma de Telegram, la inicial de tu nombre, si tienes Premium),"
            " reveladas una a una solo si el destinatario paga por ellas. Murmur sí sabe quién envió cada"
            " mensaje: lo necesitamos para frenar abusos (bloqueos, denuncias, baneos) y entregar respuestas."
            " Tu id de Telegram, nombre y usuario nunca se muestran al destinatario, ni se le envían en mensajes"
            " del bot, ni se escriben en nuestros registros.\n"
            "Los pagos son en Telegram Stars por bienes digitales entregados al momento; reembolsos en"
            " /paysupport.\n"
            "Borra tus datos cuando quieras con /deleteme o en los ajustes; el registro de pagos se conserva"
            " anonimizado, como exige la ley.\n"
            "No uses Murmur para acosar: las denuncias se revisan y los abusadores son baneados."
        ),
    },
    "support_sent": {
        "en": "Thanks — your request reached our support team. We answer here within 48 hours.",
        "ru": "Спасибо — запрос передан в поддержку. Ответим здесь в течение 48 часов.",
        "es": "Gracias — tu solicitud llegó a soporte. Respondemos aquí en 48 horas.",
    },
    "deleted": {
        "en": "Your data has been erased.",
        "ru": "Ваши данные удалены.",
        "es": "Tus datos han sido borrados.",
    },
    "banned": {
        "en": "Your Murmur account is banned.",
        "ru": "Ваш аккаунт в Murmur заблокирован.",
        "es": "Tu cuenta de Murmur está suspendida.",
    },
    "clue_language": {
        "en": "Their Telegram is set to {value}",
        "ru": "Язык их Telegram: {value}",
        "es": "Su Telegram está en {value}",
    },
    "clue_initial": {
        "en": "Their first name starts with “{value}”",
        "ru": "Их имя начинается на «{value}»",
        "es": "Su nombre empieza por «{value}»",
    },
    "clue_premium_yes": {
        "en": "They have Telegram Premium",
        "ru": "У них есть Telegram Premium",
        "es": "Tiene Telegram Premium",
    },
    "clue_premium_no": {
        "en": "They don't have Telegram Premium",
        "ru": "У них нет Telegram Premium",
        "es": "No tiene Telegram Premium",
    },
    "report_digest": {
        "en": "🚩 New reports since the last digest: {count}. Waiting for a decision: {waiting}. The oldest:",
        "ru": "🚩 Новых жалоб с прошлой сводки: {count}. Ждут решения: {waiting}. Самые старые:",
        "es": "🚩 Denuncias nuevas desde el último resumen: {count}. Esperan decisión: {waiting}. Las más antiguas:",
    },
    "report_item": {
        "en": "{number}. Message {message_id} to user {recipient_id}, reason: {reason}\n{text}",
        "ru": "{number}. Сообщение {message_id} пользователю {recipient_id}, причина: {reason}\n{text}",
        "es": "{number}. Mensaje {message_id} al usuario {recipient_id}, motivo: {reason}\n{text}",
    },
    "report_no_reason": {"en": "none given", "ru": "не указана", "es": "sin motivo"},
    "reject_unknown_order": {
        "en": "This order does not exist. Please try again from the app.",
        "ru": "Такого заказа нет. Попробуйте ещё раз из приложения.",
        "es": "Este pedido no existe. Inténtalo de nuevo desde la app.",
    },
    "reject_not_yours": {
        "en": "This invoice belongs to someone else.",
        "ru": "Этот счёт выставлен другому пользователю.",
        "es": "Esta factura es de otra persona.",
    },
    "reject_not_pending": {
        "en": "This order was already paid.",
        "ru": "Этот заказ уже оплачен.",
        "es": "Este pedido ya está pagado.",
    },
    "reject_expired": {
        "en": "This invoice has expired. Please open it again from the app.",
        "ru": "Срок счёта истёк. Откройте его заново из приложения.",
        "es": "Esta factura ha caducado. Ábrela de nuevo desde la app.",
    },
    "reject_wrong_currency": {
        "en": "Only Telegram Stars are accepted.",
        "ru": "Принимаются только Telegram Stars.",
        "es": "Solo se aceptan Telegram Stars.",
    },
    "reject_wrong_amount": {
        "en": "The price has changed. Please open the invoice again.",
        "ru": "Цена изменилась. Откройте счёт заново.",
        "es": "El precio ha cambiado. Abre la factura de nuevo.",
    },
    "reject_target_gone": {
        "en": "This purchase is no longer available for that message.",
        "ru": "Эта покупка больше недоступна для этого сообщения.",
        "es": "Esta compra ya no está disponible para ese mensaje.",
    },
    "reject_banned": {
        "en": "Your account cannot make purchases.",
        "ru": "Ваш аккаунт не может совершать покупки.",
        "es": "Tu cuenta no puede hacer compras.",
    },
    "reject_blocked": {
        "en": "You cannot send gifts to this inbox.",
        "ru": "Вы не можете отправлять подарки в эти входящие.",
        "es": "No puedes enviar regalos a esta bandeja.",
    },
    "reject_not_accepting": {
        "en": "This inbox is not taking messages right now, so your gift cannot go with one.",
        "ru": "Эти входящие сейчас не принимают сообщения, поэтому подарок отправить не получится.",
        "es": "Esta bandeja no acepta mensajes ahora, así que tu regalo no puede ir con uno.",
    },
    "reject_already_pro": {
        "en": "You already have Murmur Pro: nothing to pay for.",
        "ru": "У вас уже есть Murmur Pro: платить не за что.",
        "es": "Ya tienes Murmur Pro: no hay nada que pagar.",
    },
    "reject_pro_includes_plus": {
        "en": "Your Murmur Pro already includes everything Plus does.",
        "ru": "Ваш Murmur Pro уже включает всё, что даёт Plus.",
        "es": "Tu Murmur Pro ya incluye todo lo que ofrece Plus.",
    },
    "reject_already_readable": {
        "en": "You can already read this message: nothing to pay for.",
        "ru": "Это сообщение уже можно прочитать: платить не за что.",
        "es": "Ya puedes leer este mensaje: no hay nada que pagar.",
    },
    "reject_no_hints_left": {
        "en": "There are no more hints for this message.",
        "ru": "Для этого сообщения больше нет подсказок.",
        "es": "No quedan más pistas para este mensaje.",
    },
    "paid_unlock": {
        "en": "✅ Paid {stars} ⭐: the message is unlocked. Open the app to read it.",
        "ru": "✅ Оплачено {stars} ⭐: сообщение открыто. Откройте приложение, чтобы прочитать его.",
        "es": "✅ Pagado {stars} ⭐: el mensaje está desbloqueado. Abre la app para leerlo.",
    },
    "paid_hint": {
        "en": "✅ Paid {stars} ⭐: a new hint is revealed. Open the app to see it.",
        "ru": "✅ Оплачено {stars} ⭐: открыта новая подсказка. Откройте приложение.",
        "es": "✅ Pagado {stars} ⭐: se reveló una nueva pista. Abre la app para verla.",
    },
    "paid_plus_week": {
        "en": "✅ Paid {stars} ⭐: Murmur Plus is active until {until} (UTC).",
        "ru": "✅ Оплачено {stars} ⭐: Murmur Plus активен до {until} (UTC).",
        "es": "✅ Pagado {stars} ⭐: Murmur Plus activo hasta {until} (UTC).",
    },
    "paid_pro_month": {
        "en": "✅ Paid {stars} ⭐: Murmur Pro is active until {until} (UTC) and renews monthly.",
        "ru": "✅ Оплачено {stars} ⭐: Murmur Pro активен до {until} (UTC) и продлевается ежемесячно.",
        "es": "✅ Pagado {stars} ⭐: Murmur Pro activo hasta {until} (UTC), se renueva cada mes.",
    },
    "paid_renewed": {
        "en": "🔁 Murmur Pro renewed ({stars} ⭐) until {until} (UTC).",
        "ru": "🔁 Murmur Pro продлён ({stars} ⭐) до {until} (UTC).",
        "es": "🔁 Murmur Pro renovado ({stars} ⭐) hasta {until} (UTC).",
    },
    "paid_gift": {
        "en": "✅ Paid {stars} ⭐: your gift is attached to your message.",
        "ru": "✅ Оплачено {stars} ⭐: ваш подарок прикреплён к сообщению.",
        "es": "✅ Pagado {stars} ⭐: tu regalo está unido a tu mensaje.",
    },
    "paid_telegram_gift": {
        "en": "✅ Paid {stars} ⭐: your Telegram gift is on its way. It arrives from the bot, with your message,"
        " never with your name.",
        "ru": "✅ Оплачено {stars} ⭐: ваш подарок Telegram уже в пути. Он придёт от бота, с вашим сообщением и"
        " без вашего имени.",
        "es": "✅ Pagado {stars} ⭐: tu regalo de Telegram va en camino. Llega del bot, con tu mensaje, nunca con tu"
        " nombre.",
    },
    "gift_delivered": {
        "en": "🎁 Your Telegram gift {emoji} was delivered with your message.",
        "ru": "🎁 Ваш подарок Telegram {emoji} доставлен вместе с сообщением.",
        "es": "🎁 Tu regalo de Telegram {emoji} se entregó con tu mensaje.",
    },
    "gift_refunded": {
        "en": "↩️ Your Telegram gift {emoji} could not be delivered: {reason}. We refunded your {stars} ⭐.",
        "ru": "↩️ Ваш подарок Telegram {emoji} не удалось доставить: {reason}. Мы вернули ваши {stars} ⭐.",
        "es": "↩️ Tu regalo de Telegram {emoji} no se pudo entregar: {reason}. Te reembolsamos {stars} ⭐.",
    },
    "refund_reason_gift_unaffordable": {
        "en": "the bot could not pay for it just then",
        "ru": "бот не смог оплатить его в тот момент",
        "es": "el bot no pudo pagarlo en ese momento",
    },
    "refund_reason_gift_not_sent": {
        "en": "Telegram did not send it",
        "ru": "Telegram не отправил его",
        "es": "Telegram no lo envió",
    },
    "refunded": {
        "en": "↩️ {stars} ⭐ refunded.",
        "ru": "↩️ Возвращено {stars} ⭐.",
        "es": "↩️ Reembolsados {stars} ⭐.",
    },
    "auto_refunded": {
        "en": "↩️ We refunded your {stars} ⭐: {reason}.",
        "ru": "↩️ Мы вернули ваши {stars} ⭐: {reason}.",
        "es": "↩️ Te reembolsamos {stars} ⭐: {reason}.",
    },
    "refund_reason_duplicate_subscription": {
        "en": "you already have Murmur Pro, so this second subscription was cancelled",
        "ru": "у вас уже есть Murmur Pro, поэтому вторая подписка отменена",
        "es": "ya tienes Murmur Pro, así que esta segunda suscripción se canceló",
    },
    "refund_reason_pro_includes_plus": {
        "en": "your Murmur Pro already includes Plus",
        "ru": "ваш Murmur Pro уже включает Plus",
        "es": "tu Murmur Pro ya incluye Plus",
    },
    "refund_reason_already_unlocked": {
        "en": "that message was already unlocked",
        "ru": "это сообщение уже было открыто",
        "es": "ese mensaje ya estaba desbloqueado",
    },
    "refund_reason_no_hints_left": {
        "en": "that message has no more hints",
        "ru": "для этого сообщения больше нет подсказок",
        "es": "ese mensaje no tiene más pistas",
    },
    "refund_reason_target_gone": {
        "en": "that message no longer exists",
        "ru": "этого сообщения больше нет",
        "es": "ese mensaje ya no existe",
    },
    "refund_reason_message_refused": {
        "en": "the inbox did not take your message just then, so it was not sent",
        "ru": "входящие не приняли ваше сообщение в тот момент, поэтому оно не отправлено",
        "es": "la bandeja no aceptó tu mensaje en ese momento, así que no se envió",
    },
    "refund_reason_no_match": {
        "en": "we could not match it to a purchase",
        "ru": "мы не нашли, к какой покупке он относится",
        "es": "no pudimos asociarlo a ninguna compra",
    },
    "pro_payment_failed": {
        "en": "Telegram could not charge your Murmur Pro renewal, so Pro ends on {until} (UTC). Subscribe again to"
        " keep reading everything.",
        "ru": "Telegram не смог списать оплату за продление Murmur Pro, поэтому Pro закончится {until} (UTC)."
        " Оформите подписку снова, чтобы читать всё.",
        "es": "Telegram no pudo cobrar la renovación de Murmur Pro, así que Pro termina el {until} (UTC)."
        " Suscríbete de nuevo para seguir leyéndolo todo.",
    },
    "resubscribe": {"en": "Subscribe again", "ru": "Подписаться снова", "es": "Suscribirme de nuevo"},
    "erase_later": {
        "en": "Telegram did not let us cancel your Murmur Pro subscription just now, so nothing was erased yet."
        " Please send /deleteme again in a few minutes.",
        "ru": "Telegram сейчас не дал отменить вашу подписку Murmur Pro, поэтому данные ещё не удалены."
        " Отправьте /deleteme ещё раз через несколько минут.",
        "es": "Telegram no nos dejó cancelar tu suscripción a Murmur Pro ahora, así que aún no se borró nada."
        " Envía /deleteme de nuevo en unos minutos.",
    },
    "plan_expired": {
        "en": "Your Murmur Plus has ended. Messages show previews again; renew any time in the app.",
        "ru": "Ваш Murmur Plus закончился. Сообщения снова показывают превью; продлите в приложении.",
        "es": "Tu Murmur Plus ha terminado. Los mensajes vuelven a mostrar vistas previas; renueva en la app.",
    },
    "plan_reminder": {
        "en": "Your Murmur Plus ends in less than a day ({until} UTC). Renew in the app to keep reading.",
        "ru": "Ваш Murmur Plus закончится меньше чем через сутки ({until} UTC). Продлите в приложении.",
        "es": "Tu Murmur Plus termina en menos de un día ({until} UTC). Renueva en la app para seguir leyendo.",
    },
    "pro_expired": {
        "en": "Your Murmur Pro has ended. Messages show previews again; subscribe again any time in the app.",
        "ru": "Ваш Murmur Pro закончился. Сообщения снова показывают превью; подписаться снова можно в приложении.",
        "es": "Tu Murmur Pro ha terminado. Los mensajes vuelven a mostrar vistas previas; suscríbete de nuevo en la"
        " app cuando quieras.",
    },
    "renew": {"en": "Renew", "ru": "Продлить", "es": "Renovar"},
    # Invoices (createInvoiceLink: a title of 1-32 characters, a description of 1-255), one pair per product.
    "invoice_title_unlock": {"en": "Read a message", "ru": "Прочитать сообщение", "es": "Leer un mensaje"},
    "invoice_description_unlock": {
        "en": "The full text of one anonymous message.",
        "ru": "Полный текст одного анонимного сообщения.",
        "es": "El texto completo de un mensaje anónimo.",
    },
    "invoice_title_hint": {"en": "A hint", "ru": "Подсказка", "es": "Una pista"},
    "invoice_description_hint": {
        "en": "The next clue about who sent this message.",
        "ru": "Следующая подсказка о том, кто отправил это сообщение.",
        "es": "La siguiente pista sobre quién envió este mensaje.",
    },
    "invoice_title_plus_week": {
        "en": "Murmur Plus, 7 days",
        "ru": "Murmur Plus на 7 дней",
        "es": "Murmur Plus, 7 días",
    },
    "invoice_description_plus_week": {
        "en": "Read every message for a week.",
        "ru": "Все сообщения целиком в течение недели.",
        "es": "Lee todos los mensajes durante una semana.",
    },
    "invoice_title_pro_month": {"en": "Murmur Pro", "ru": "Murmur Pro", "es": "Murmur Pro"},
    "invoice_description_pro_month": {
        "en": "Read every message; renews every 30 days until you cancel.",
        "ru": "Все сообщения целиком; продлевается каждые 30 дней, пока вы не отмените.",
        "es": "Lee todos los mensajes; se renueva cada 30 días hasta que lo canceles.",
    },
    "invoice_title_gift_heart": {"en": "Heart", "ru": "Сердце", "es": "Corazón"},
    "invoice_description_gift_heart": {
        "en": "A heart shown with your message.",
        "ru": "Сердце рядом с вашим сообщением.",
        "es": "Un corazón junto a tu mensaje.",
    },
    "invoice_title_gift_fire": {"en": "Fire", "ru": "Огонь", "es": "Fuego"},
    "invoice_description_gift_fire": {
        "en": "Fire shown with your message.",
        "ru": "Огонь рядом с вашим сообщением.",
        "es": "Fuego junto a tu mensaje.",
    },
    "invoice_title_gift_crown": {"en": "Crown", "ru": "Корона", "es": "Corona"},
    "invoice_description_gift_crown": {
        "en": "A crown shown with your message.",
        "ru": "Корона рядом с вашим сообщением.",
        "es": "Una corona junto a tu mensaje.",
    },
    "invoice_title_telegram_gift": {"en": "Telegram gift", "ru": "Подарок Telegram", "es": "Regalo de Telegram"},
    "invoice_description_telegram_gift": {
        "en": "A real Telegram gift with your message, sent by the bot: they see it from the bot, not from you.",
        "ru": "Настоящий подарок Telegram с вашим сообщением от имени бота: получатель видит его от бота, не от вас.",
        "es": "Un regalo de Telegram real con tu mensaje, enviado por el bot: lo ve del bot, no de ti.",
    },
    "ban_sender": {"en": "Ban sender", "ru": "Забанить отправителя", "es": "Banear remitente"},
    "block_sender": {"en": "Block for recipient", "ru": "Заблокировать для получателя", "es": "Bloquear"},
    "dismiss": {"en": "Dismiss", "ru": "Отклонить", "es": "Descartar"},
    # Sharing into any chat (inline mode, WebApp.shareMessage): the owner's own card, in their language.
    "share_description": {
        "en": "Answers are anonymous",
        "ru": "Ответы анонимны",
        "es": "Las respuestas son anónimas",
    },
    "share_link_title": {
        "en": "✉️ Write me anonymously",
        "ru": "✉️ Напиши мне анонимно",
        "es": "✉️ Escríbeme de forma anónima",
    },
    "share_link_message": {
        "en": "✉️ Write to {name} anonymously: they will never know it was you.",
        "ru": "✉️ Напиши анонимное сообщение для {name}: никто не узнает, что это был ты.",
        "es": "✉️ Escribe a {name} de forma anónima: nunca sabrá que fuiste tú.",
    },
    "share_card_message": {
        "en": "{emoji} {question}\n\nAnswer anonymously: I will never know it was you.",
        "ru": "{emoji} {question}\n\nОтветь анонимно: я не узнаю, что это был ты.",
        "es": "{emoji} {question}\n\nResponde de forma anónima: nunca sabré que fuiste tú.",
    },
    "inline_get_link": {
        "en": "Get your anonymous link",
        "ru": "Получить анонимную ссылку",
        "es": "Consigue tu enlace anónimo",
    },
}

# Sentences with a number of things in them: the variable that holds the number, and each language's forms.
_PLURALS: dict[str, tuple[str, dict[str, dict[str, str]]]] = {
    "new_messages": (
        "count",
        {
            "en": {
                "one": "💌 {count} new anonymous message. The newest: “{preview}”",
                "other": "💌 {count} new anonymous messages. The newest: “{preview}”",
            },
            "ru": {
                "one": "💌 {count} новое анонимное сообщение. Последнее: «{preview}»",
                "few": "💌 {count} новых анонимных сообщения. Последнее: «{preview}»",
                "many": "💌 {count} новых анонимных сообщений. Последнее: «{preview}»",
            },
            "es": {
                "one": "💌 {count} mensaje anónimo nuevo. El más reciente: «{preview}»",
                "other": "💌 {count} mensajes anónimos nuevos. El más reciente: «{preview}»",
            },
        },
    ),
    "erasing": (
        "minutes",
        {
            "en": {
                "one": "Your data is being erased. This finishes within {minutes} minute.",
                "other": "Your data is being erased. This finishes within {minutes} minutes.",
            },
            "ru": {
                "one": "Ваши данные удаляются. Это займёт не больше {minutes} минуты.",
                "few": "Ваши данные удаляются. Это займёт не больше {minutes} минут.",
                "many": "Ваши данные удаляются. Это займёт не больше {minutes} минут.",
            },
            "es": {
                "one": "Tus datos se están borrando. Termina en {minutes} minuto como máximo.",
                "other": "Tus datos se están borrando. Termina en {minutes} minutos como máximo.",
            },
        },
    ),
}

# A hint's "their Telegram is set to …", in the reader's language (lower case in Russian and Spanish, as there).
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "en": "English", "ru": "Russian", "es": "Spanish", "de": "German", "fr": "French", "it": "Italian",
        "pt": "Portuguese", "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic", "fa": "Persian",
        "id": "Indonesian", "uz": "Uzbek", "kk": "Kazakh", "pl": "Polish", "nl": "Dutch", "hi": "Hindi",
        "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "be": "Belarusian",
    },
    "ru": {
        "en": "английский", "ru": "русский", "es": "испанский", "de": "немецкий", "fr": "французский",
        "it": "итальянский", "pt": "португальский", "uk": "украинский", "tr": "турецкий", "ar": "арабский",
        "fa": "персидский", "id": "индонезийский", "uz": "узбекский", "kk": "казахский", "pl": "польский",
        "nl": "нидерландский", "hi": "хинди", "ja": "японский", "ko": "корейский", "zh": "китайский",
        "be": "белорусский",
    },
    "es": {
        "en": "inglés", "ru": "ruso", "es": "español", "de": "alemán", "fr": "francés", "it": "italiano",
        "pt": "portugués", "uk": "ucraniano", "tr": "turco", "ar": "árabe", "fa": "persa", "id": "indonesio",
        "uz": "uzbeko", "kk": "kazajo", "pl": "polaco", "nl": "neerlandés", "hi": "hindi", "ja": "japonés",
        "ko": "coreano", "zh": "chino", "be": "bielorruso",
    },
}  # fmt: skip


def lang_of(language_code: str | None) -> str:
    code = (language_code or "en").split("-")[0].lower()
    return code if code in LANGUAGES else "en"


def text(key: str, language_code: str | None, **values: object) -> str:
    """The sentence `key` in the user's language, its placeholders filled from `values`; a sentence with a number
    of things in it takes the plural form that number needs."""
    language = lang_of(language_code)
    if key in _PLURALS:
        number, forms = _PLURALS[key]
        count = values[number]
        assert isinstance(count, int)
        return forms[language][plurals.category(language, count)].format(**values)
    return _T[key][language].format(**values)


def language_name(language: str, reader_language: str | None) -> str:
    """A Telegram language code (`ru`) as the reader calls that language; an unknown code as it is."""
    return LANGUAGE_NAMES[lang_of(reader_language)].get(language, language)


def sentence_keys() -> list[str]:
    """Every sentence's key (for the test that reads them all in every language)."""
    return [*_T, *_PLURALS]


def forms(key: str, language: str) -> list[str]:
    """Every form a sentence takes in `language`, unfilled: one, or one per plural form."""
    if key in _PLURALS:
        return list(_PLURALS[key][1][language].values())
    return [_T[key][language]]
