package sqlite

// textDictID names textDict in the header of every zstd frame compressed
// with it.
//
// The dictionary is part of the stored format: a text compressed with it can
// only be read with exactly these bytes. Never edit it; a better dictionary
// gets the next ID, and the decoder keeps every earlier one.
const textDictID = 1

// textDict primes the compressor with what folded search text usually holds:
// the header fields that delivery, DKIM and mailing lists add, MIME fields,
// and the stock phrases of replies. A message is a few kilobytes, too little
// for zstd to learn these from the message itself; on TextHeavy the
// dictionary makes the stored text 11% smaller, for a third more time to
// decode it. Later lines lie closer to a message's own bytes, so the most
// common fields come last.
const textDict = `hi all, hello everyone, dear team, thanks for your email. thank you for the update.
please find attached the document. let me know if you have any questions.
i will get back to you as soon as possible. could you please send me the latest version?
looking forward to hearing from you. sorry for the late reply. see you next week.
thanks, best regards, kind regards, many thanks, best, cheers, sincerely, regards,
-- 
sent from my iphone
to unsubscribe from this list, click here. view this email in your browser.
privacy policy | terms of service | manage preferences
on mon, tue, wed, thu, fri, sat, sun, jan feb mar apr may jun jul aug sep oct nov dec 2025 at 10:00 am pm, wrote:
> > 
-----original message-----
---------- forwarded message ---------
return-path: <
delivered-to: 
received: from mail.example.com (mail.example.com [192.0.2.10]) by mx.example.net (postfix) with esmtps id for <>; mon, 1 jan 2024 10:00:00 +0000 (utc)
received: by 2002:a05: with smtp id ; 
x-received: by 2002:a17: with smtp id 
received-spf: pass (domain of designates as permitted sender) client-ip=; envelope-from=
authentication-results: mx.example.net; spf=pass smtp.mailfrom=; dkim=pass header.d= header.s= header.b=; dmarc=pass (p=none dis=none) header.from=
arc-seal: i=1; a=rsa-sha256; t=; cv=none; d=; s=arc-20160816; b=
arc-message-signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=; s=arc-20160816; h=to:subject:message-id:date:from:mime-version:dkim-signature; bh=; b=
arc-authentication-results: i=1; 
dkim-signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=; s=selector1; h=from:to:cc:subject:date:message-id:in-reply-to:references:mime-version:content-type; bh=; b=
x-google-dkim-signature: 
x-gm-message-state: 
x-google-smtp-source: 
x-ms-exchange-organization-
x-mailer: 
user-agent: mozilla/5.0 thunderbird
list-unsubscribe: <mailto:?subject=unsubscribe>, <https://
list-unsubscribe-post: list-unsubscribe=one-click
list-id: 
precedence: bulk
from: 
reply-to: 
to: 
cc: 
subject: re: fwd: 
date: mon, 1 jan 2024 10:00:00 +0000
message-id: <@mail.gmail.com>
in-reply-to: <
references: <
mime-version: 1.0
content-type: multipart/alternative; boundary="
content-type: text/plain; charset="utf-8"
content-type: text/html; charset="utf-8"
content-transfer-encoding: quoted-printable
content-transfer-encoding: 7bit
`
