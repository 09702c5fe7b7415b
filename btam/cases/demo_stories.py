"""The demo cases' stories (data only): about twenty fictitious cases over every stage.

Every text here is invented and plainly fictitious; students come from the generated roster (the
loader, ``btam.cases.demo``, picks them) and are called "the student" in the notes. Times are days
before the moment the demo is loaded. Each case's assessments, management plan and monitoring are
in ``btam/assessments/demo_plans.py`` (``plan``), matching the stage it reached.
"""

from __future__ import annotations

from dataclasses import dataclass

from btam.assessments.demo import CasePlan
from btam.assessments.demo_plans import PLANS
from btam.cases.models import ClosureReason, Note, Status
from btam.intake.models import HowKnown, ReporterRole, YesNoUnknown

Kind = Note.Kind


@dataclass(frozen=True)
class DemoNote:
    kind: str
    body: str
    author: str = "manager"  # an account key (see _accounts); someone who cannot work the case: the manager
    at: float | None = None  # when, as a fraction of the case's life (default: spread evenly)


@dataclass(frozen=True)
class DemoTask:
    title: str
    assignee: str = "manager"
    due: str = "soon"  # overdue, today, soon, later or "" (no due date)
    done: bool = False
    at: float | None = None  # when it is written, as a fraction of the case's life


@dataclass(frozen=True)
class DemoIncoming:
    """A new demo report the case comes from (the subject is named by the roster student's name)."""

    narrative: str
    reporter_role: str = ReporterRole.STUDENT
    how_known: str = HowKnown.HEARD
    weapon: str = YesNoUnknown.NO
    self_harm: str = YesNoUnknown.NO
    location: str = ""
    # Made by the demo teacher through the staff channel: the student is picked from the registry,
    # and there is no reporter thread.
    staff_referral: bool = False


@dataclass(frozen=True)
class Story:
    school: str
    title: str
    summary: str
    opened: float  # days ago
    stage: str  # the furthest stage the case reached
    manager: str = "counselor"
    incoming: DemoIncoming | None = None
    intake: tuple[int, ...] = ()  # indexes of btam.intake.demo.REPORTS that become this case
    subject: bool = True  # a roster student as the subject (and their guardian)
    target: bool = False  # a roster student as a potential target
    people: tuple[tuple[str, str, str], ...] = ()  # free-text (role, name, part)
    screening: str = ""  # the screening rationale (the decision: evaluate, unless no_further_action)
    no_further_action: bool = False
    # The assessments, interventions, check-ins and reassessments (btam/assessments/demo_plans.py).
    plan: CasePlan | None = None
    notes: tuple[DemoNote, ...] = ()
    tasks: tuple[DemoTask, ...] = ()
    documents: tuple[str, ...] = ()  # "safety_plan", "screenshot"
    thread: tuple[tuple[str, str], ...] = ()  # (the team's question, the reporter's reply)
    closure: tuple[str, str] | None = None  # (reason, note)
    closed: float | None = None  # days ago the closure was approved
    pending_closure: bool = False
    reopened: tuple[float, str] | None = None  # (days ago, reason)
    restricted: str = ""  # the reason (a leader restricts the case to named members)
    transfer: tuple[str, str] | None = None  # (school slug, reason); the counselor then manages it
    quiet: float = 0.5  # days since the last activity (open cases)
    after_reopen: tuple[DemoNote, ...] = ()


CR, JM, AE, RA = "cedar-ridge-high", "juniper-middle", "alder-elementary", "ridgeview-academy"
S, E, M, MO = Status.SCREENING, Status.EVALUATION, Status.MANAGEMENT, Status.MONITORING

STORIES: list[Story] = [
    # Closed ---------------------------------------------------------------------------------------
    Story(
        CR,
        "A joke about blowing up the chemistry lab",
        "During a lab, a student said he would 'blow up this room'. He took it back at once and apologised "
        "to the teacher. Resolved at screening.",
        opened=45,
        stage=S,
        incoming=DemoIncoming(
            "In chemistry today a student said he was going to blow up the lab. Everyone laughed but the "
            "teacher looked worried.",
            how_known=HowKnown.HEARD,
            location="Room 214, chemistry",
        ),
        screening="A joke in class, taken back at once with an apology; no history, no plan, no means. "
        "Transient: resolved at screening, with a talk with the parents.",
        no_further_action=True,
        notes=(
            DemoNote(
                Kind.INTERVIEW,
                "Met the student with the assistant principal. He said it was a stupid joke after the "
                "experiment failed. He apologised to the teacher himself, in person.",
            ),
            DemoNote(Kind.CONTACT, "Called his father, who will talk with him about jokes of this kind."),
        ),
        tasks=(DemoTask("Tell the chemistry teacher how it was resolved", done=True),),
        closure=(ClosureReason.NO_THREAT, "Transient remark resolved at screening with an apology; parents told."),
        closed=43,
    ),
    Story(
        JM,
        "Threatening note left in a classmate's locker",
        "A typed note saying 'you're next' was left in a 7th grader's locker. The writer was identified and "
        "the conflict behind it worked through. Plan completed.",
        opened=120,
        stage=MO,
        manager="leader",
        target=True,
        incoming=DemoIncoming(
            "Somebody put a note in my son's locker that says 'you're next'. He doesn't want to go back to school.",
            reporter_role=ReporterRole.PARENT,
            how_known=HowKnown.TOLD,
        ),
        screening="A written threat to a named student; the writer unknown at first. Substantive until shown "
        "otherwise.",
        plan=PLANS["locker-note"],
        notes=(
            DemoNote(Kind.RECORDS_REVIEW, "Hallway camera shows three students at the locker that morning."),
            DemoNote(
                Kind.INTERVIEW,
                "The student who wrote the note admitted it. He says he wanted to scare "
                "the other boy after an argument about seats in the cafeteria.",
            ),
            DemoNote(Kind.CONSULTATION, "Restorative meeting planned with the counselor; both families agree."),
            DemoNote(Kind.OBSERVATION, "Four weekly check-ins: no further notes, the boys sit apart calmly."),
        ),
        tasks=(
            DemoTask("Restorative meeting with both students", done=True),
            DemoTask("Four weekly check-ins with the student who was targeted", done=True),
        ),
        thread=(
            (
                "Thank you for telling us. Is your son willing to talk with the counselor tomorrow?",
                "Yes, he will come in. Thank you for calling us back so fast.",
            ),
        ),
        closure=(ClosureReason.RESOLVED, "Plan completed: no further incident in six weeks; both families told."),
        closed=20,
    ),
    Story(
        AE,
        "Statements at home about hurting a classmate",
        "A parent called about her son's statements at home about hurting a classmate. The family asked for "
        "outside help: referred to community mental health.",
        opened=100,
        stage=E,
        manager="leader",
        screening="Repeated statements of wanting to hurt one classmate, reported by a parent. A detailed "
        "evaluation is needed.",
        plan=PLANS["home-statements"],
        notes=(
            DemoNote(
                Kind.CONTACT,
                "The mother called: her son has said at home several times that he wants to "
                "'hurt' a boy in his class. Nothing has happened at school.",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "Met the student with the school counselor and his mother. He is sad and "
                "angry about his parents' separation; he says the other boy mocks him.",
            ),
            DemoNote(
                Kind.CONSULTATION,
                "Consulted the district psychologist: a referral to community mental "
                "health fits better than a school plan. The mother agrees.",
            ),
        ),
        tasks=(DemoTask("Send the referral to community mental health (with the mother's consent)", done=True),),
        closure=(
            ClosureReason.REFERRED_OUT,
            "Referred to the county's community mental health service; the "
            "school counselor keeps in touch with the family.",
        ),
        closed=50,
    ),
    Story(
        RA,
        "Threats to staff after an expulsion from another school",
        "A student told staff he would 'make them pay' for his expulsion from his previous school. A plan was "
        "in place; the family then moved out of the district.",
        opened=80,
        stage=M,
        manager="leader",
        screening="Threats to staff tied to a grievance (an expulsion). A detailed evaluation is needed.",
        plan=PLANS["expulsion-threats"],
        notes=(
            DemoNote(Kind.OBSERVATION, "Said twice in the front office that staff 'will pay' for his expulsion."),
            DemoNote(Kind.RECORDS_REVIEW, "Records from the previous school: expelled after a fight; no weapon."),
            DemoNote(
                Kind.INTERVIEW,
                "Long talk with the student and his aunt (guardian). He wants a fresh start "
                "and agreed to weekly meetings with the counselor.",
            ),
            DemoNote(Kind.CONTACT, "The aunt called: the family is moving to another state next week."),
        ),
        tasks=(
            DemoTask("Weekly meeting with the school counselor", done=True),
            DemoTask("Send the records to the new district, per policy", done=True),
        ),
        closure=(ClosureReason.LEFT_DISTRICT, "The family moved out of state; records sent on per policy."),
        closed=35,
    ),
    # Reopened (closed, then reopened: back in monitoring) ---------------------------------------------
    Story(
        CR,
        "Posts about bringing a weapon to school",
        "Posts by a student about 'bringing something' to school after a fight. Managed, monitored and "
        "closed; reopened after a new post.",
        opened=150,
        stage=MO,
        incoming=DemoIncoming(
            "A student posted that he will 'bring something' to school on Monday because of the fight at the "
            "park. People are sharing it.",
            how_known=HowKnown.ONLINE,
            weapon=YesNoUnknown.UNKNOWN,
        ),
        screening="A posted threat of an unnamed weapon after a fight; substantive until shown otherwise.",
        plan=PLANS["weapon-posts"],
        notes=(
            DemoNote(
                Kind.SOCIAL_MEDIA,
                "Reviewed the post and the comments under it: no picture of a weapon, no date other than 'Monday'.",
                author="sro",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "Interviewed the student with his mother. The fight was about a stolen "
                "phone. He says the post was 'to look tough'.",
            ),
            DemoNote(Kind.CONTACT, "The SRO visited the home with the parents' agreement: no weapons.", author="sro"),
            DemoNote(Kind.OBSERVATION, "Monthly check-ins: calm, attending, grades back up."),
        ),
        tasks=(
            DemoTask("Home visit about access to weapons", assignee="sro", done=True),
            DemoTask("Monthly check-in", done=True),
        ),
        thread=(
            (
                "Thank you for the report. Do you know where the fight at the park happened?",
                "At the skate park on Saturday night. I wasn't there, I only saw videos.",
            ),
        ),
        closure=(ClosureReason.RESOLVED, "Plan completed; no incident in two months."),
        closed=60,
        reopened=(4, "A new post by the student mentions the same group of students: the team looks again."),
        after_reopen=(
            DemoNote(
                Kind.SOCIAL_MEDIA,
                "The new post says 'they never learn'. No weapon, no date. Shared with the SRO.",
                author="sro",
            ),
        ),
    ),
    # Monitoring ---------------------------------------------------------------------------------------
    Story(
        CR,
        "Fight threats between two groups after a football game",
        "Threats between two groups of students after a game. Plan completed; closure asked, waiting for the "
        "team leader's approval.",
        opened=90,
        stage=MO,
        target=True,
        incoming=DemoIncoming(
            "After Friday's game two groups were yelling that they will fight on Monday in the parking lot. "
            "Somebody said to bring bats.",
            how_known=HowKnown.SAW,
            weapon=YesNoUnknown.UNKNOWN,
            location="Stadium parking lot",
        ),
        screening="Threat of a group fight with weapons named; substantive.",
        plan=PLANS["game-fight"],
        notes=(
            DemoNote(
                Kind.INTERVIEW,
                "Met the four students named, one at a time. All say it was 'just talk' "
                "after the game; two are still angry about a post.",
            ),
            DemoNote(Kind.CONSULTATION, "The SRO will be in the parking lot on Monday morning.", author="sro"),
            DemoNote(Kind.OBSERVATION, "Monday: no gathering in the parking lot."),
            DemoNote(Kind.OBSERVATION, "Mediation held; the students agreed to stop posting about each other."),
        ),
        tasks=(
            DemoTask("Mediation between the two groups", done=True),
            DemoTask("SRO in the parking lot on Monday morning", assignee="sro", done=True),
        ),
        thread=(
            (
                "Thank you. Did you hear who said to bring bats?",
                "I don't know his name, he is a senior with a red jacket.",
            ),
        ),
        closure=(ClosureReason.RESOLVED, "Mediation held, no incident in eight weeks; both groups' parents told."),
        pending_closure=True,
        quiet=0.4,
    ),
    Story(
        JM,
        "Threatening note in a teacher's mailbox",
        "An unsigned note threatening a teacher. The writer, an 8th grader, was identified; management plan "
        "completed, now monitored.",
        opened=75,
        stage=MO,
        manager="leader",
        subject=True,
        people=(("staff", "The teacher named in the note (demo)", "The note was left in his mailbox."),),
        screening="A written threat to a named teacher; substantive until shown otherwise.",
        plan=PLANS["teacher-note"],
        notes=(
            DemoNote(
                Kind.RECORDS_REVIEW,
                "Handwriting matched homework of one student; front office log shows him near the mailboxes.",
            ),
            DemoNote(Kind.INTERVIEW, "The student admitted it. He says he was ashamed of his grade."),
            DemoNote(Kind.CONTACT, "Parents met the principal and the teacher; tutoring set up."),
            DemoNote(Kind.OBSERVATION, "Monthly check-in: grades improving, no incident."),
        ),
        tasks=(
            DemoTask("Set up tutoring in math", done=True),
            DemoTask("Monthly check-in with the student", due="later"),
        ),
        quiet=3,
    ),
    Story(
        CR,
        "Statements about hurting himself and others",
        "A student told a friend he wanted to hurt himself and 'take others with him'. In counseling; the plan "
        "is followed, now monitored.",
        opened=60,
        stage=MO,
        incoming=DemoIncoming(
            "My friend told me he wants to kill himself and take some people with him. He has been really down "
            "since his brother left.",
            self_harm=YesNoUnknown.YES,
            how_known=HowKnown.TOLD,
        ),
        screening="Suicidal statements with a threat to others: a detailed evaluation and a suicide risk "
        "screening the same day.",
        plan=PLANS["self-harm-others"],
        notes=(
            DemoNote(Kind.INTERVIEW, "Suicide risk screening by the school psychologist; parents came at once."),
            DemoNote(Kind.CONTACT, "The parents made an appointment with a therapist for tomorrow."),
            DemoNote(Kind.CONSULTATION, "With consent, spoke with the therapist: weekly sessions."),
            DemoNote(Kind.OBSERVATION, "Check-in: attending, says the sessions help."),
        ),
        tasks=(
            DemoTask("Suicide risk screening today", done=True),
            DemoTask("Check-in every two weeks", due="soon"),
        ),
        thread=(
            (
                "Thank you for telling us right away. You did the right thing. Is there anything else we should know?",
                "No. Please don't tell him it was me.",
            ),
        ),
        quiet=2,
    ),
    # Management -----------------------------------------------------------------------------------------
    Story(
        CR,
        "Threats toward a former girlfriend",
        "Repeated messages to a former girlfriend ('you'll see what happens') and waiting for her after "
        "school. Management plan with a no-contact agreement.",
        opened=25,
        stage=M,
        target=True,
        incoming=DemoIncoming(
            "My friend's ex-boyfriend keeps texting her that she will 'see what happens' if she goes to the "
            "dance with someone else. He waits for her after school.",
            how_known=HowKnown.TOLD,
        ),
        screening="Repeated threats to one person, and following her after school: a substantive threat.",
        plan=PLANS["former-girlfriend"],
        notes=(
            DemoNote(
                Kind.INTERVIEW,
                "Met the student who received the messages; she showed eight messages "
                "over two weeks. She feels afraid walking home.",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "Met the student who sent them, with his father. He says he is hurt and "
                "did not mean harm; agreed to stop all contact.",
            ),
            DemoNote(
                Kind.CONSULTATION, "With the SRO: a written no-contact agreement signed by both families.", author="sro"
            ),
            DemoNote(Kind.OBSERVATION, "Check-in: no contact reported this week."),
        ),
        tasks=(
            DemoTask("Change schedules so they do not share 4th period", done=True),
            DemoTask("Weekly check-in with the student who was threatened", due="soon"),
            DemoTask("Follow up with both families on the no-contact agreement", assignee="sro", due="overdue"),
        ),
        documents=("safety_plan",),
        thread=(
            (
                "Thank you for telling us. Is your friend safe right now? Has he said anything new?",
                "She is ok. He stopped texting her but he still looks at her in the hallway.",
            ),
        ),
        quiet=1,
    ),
    Story(
        JM,
        "Ongoing conflict; the student moved to the high school",
        "An 8th grader kept telling another boy he would 'jump him' with his cousins. A plan was set at the "
        "middle school; the student then moved to Cedar Ridge High and the case followed him.",
        opened=40,
        stage=M,
        manager="leader",
        target=True,
        incoming=DemoIncoming(
            "A boy keeps telling my son he will 'jump him' after school with his cousins. It has been going on "
            "since September.",
            reporter_role=ReporterRole.PARENT,
            how_known=HowKnown.TOLD,
        ),
        screening="Repeated threats of an assault by several people on one student: substantive.",
        plan=PLANS["moved-conflict"],
        notes=(
            DemoNote(Kind.INTERVIEW, "Met both students separately. The conflict started over a basketball game."),
            DemoNote(Kind.CONTACT, "Both families met the assistant principal; a mediation was agreed."),
            DemoNote(Kind.CONSULTATION, "Handover meeting with the high school counselor before the move."),
            DemoNote(
                Kind.OBSERVATION,
                "First week at the high school: settled, no contact with the other boy.",
                author="counselor",
            ),
        ),
        tasks=(
            DemoTask("Mediation between the two students", done=True),
            DemoTask(
                "Introduce the student to the high school's mentor program", assignee="counselor", due="soon", at=0.8
            ),
        ),
        transfer=(
            CR,
            "The student moved to Cedar Ridge High School (program change); the middle school team "
            "keeps read access for the handover.",
        ),
        quiet=2,
    ),
    Story(
        AE,
        "Pocketknife at school and threats to classmates",
        "A 5th grader brought a small pocketknife and told classmates he would 'get' the children who tease "
        "him. Safety plan in place.",
        opened=20,
        stage=M,
        manager="leader",
        target=True,
        screening="A weapon brought to school and threats to classmates: substantive.",
        plan=PLANS["pocketknife"],
        notes=(
            DemoNote(
                Kind.OBSERVATION,
                "A classmate told the teacher; the knife (a small folding one) was taken "
                "from the backpack by the principal.",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "The student cried and said older children call him names every day at "
                "recess. He took the knife from his grandfather's drawer.",
            ),
            DemoNote(Kind.CONTACT, "Parents came in; the grandfather's knives are now locked away."),
        ),
        tasks=(
            DemoTask("Morning bag check agreed with the parents", done=True),
            DemoTask("Anti-teasing plan with the class teacher", due="overdue"),
            DemoTask("Daily check-in with the school counselor", due="later"),
        ),
        documents=("safety_plan",),
        quiet=1.5,
    ),
    Story(
        RA,
        "Video with a replica gun and the school's name",
        "A student posted a video holding what looked like a gun and naming the school. The gun was a "
        "replica; a management plan is in place.",
        opened=30,
        stage=M,
        manager="leader",
        incoming=DemoIncoming(
            "There is a video of a student from Ridgeview holding a gun and saying the name of the school. It "
            "was posted last night.",
            how_known=HowKnown.ONLINE,
            weapon=YesNoUnknown.UNKNOWN,
        ),
        screening="A posted video with what looks like a firearm and the school's name: substantive.",
        plan=PLANS["replica-gun"],
        notes=(
            DemoNote(
                Kind.SOCIAL_MEDIA, "Saved the video before it was taken down (a screenshot is on the Documents tab)."
            ),
            DemoNote(Kind.CONSULTATION, "Consulted the police liaison: the object is an airsoft replica."),
            DemoNote(
                Kind.INTERVIEW,
                "Met the student and his mother. He says he wanted attention; he has no friends at the new school.",
            ),
            DemoNote(Kind.CONTACT, "With consent, spoke with his outside therapist about the plan."),
        ),
        tasks=(
            DemoTask("Weekly meeting with the student's mentor", due="soon"),
            DemoTask("Look at the student's public posts each week", due="overdue"),
        ),
        documents=("screenshot", "safety_plan"),
        thread=(
            (
                "Thank you for sending this. Do you know if the video was shared in other places?",
                "It was in two group chats I think. It is gone now.",
            ),
        ),
        quiet=0.8,
    ),
    # Evaluation -------------------------------------------------------------------------------------------
    Story(
        CR,
        "A list of names in a notebook",
        "A student saw a list titled 'people who will pay' in a classmate's notebook, with her friend's name "
        "on it. Detailed evaluation under way.",
        opened=9,
        stage=E,
        incoming=DemoIncoming(
            "A guy in my chemistry class has a list in his notebook called 'people who will pay'. I saw my "
            "friend's name on it. He saw me looking and closed it.",
            how_known=HowKnown.SAW,
        ),
        people=(("target", "Six students named on the list (first names only)", "Named on the list; being told."),),
        screening="A written list of people 'who will pay': possible targets and a grievance. Substantive until "
        "shown otherwise.",
        plan=PLANS["list-of-names"],
        notes=(
            DemoNote(
                Kind.INTERVIEW,
                "Interviewed the student with the assistant principal. The list has six "
                "first names, students who laughed at him after a presentation. He says he wrote it 'to get it out'.",
            ),
            DemoNote(
                Kind.RECORDS_REVIEW,
                "Grades dropped in two classes since October; two absences last month; no discipline.",
            ),
            DemoNote(
                Kind.SOCIAL_MEDIA,
                "Looked at the student's public accounts with the parents' consent: nothing about the list or weapons.",
                author="sro",
            ),
            DemoNote(
                Kind.CONTACT,
                "The mother came in: withdrawn since his grandfather died in the fall; no firearms at home, she says.",
            ),
        ),
        tasks=(
            DemoTask("Home visit: ask about access to weapons", assignee="sro", done=True),
            DemoTask("Interview two of the students named on the list", due="overdue"),
            DemoTask("Referral to the school psychologist", due="soon"),
        ),
        thread=(
            (
                "Thank you. Did he say anything to you about the list?",
                "No. He just looked angry. I don't want him to know it was me.",
            ),
        ),
        quiet=0.7,
    ),
    Story(
        CR,
        "Messages after a breakup (restricted: a staff member's child)",
        "Messages saying 'you'll regret this' after a breakup. The student is the child of a staff member "
        "of this school: the case is restricted to named members.",
        opened=6,
        stage=E,
        target=True,
        screening="Threatening messages to one student after a breakup: substantive until shown otherwise.",
        plan=PLANS["breakup-messages"],
        restricted="The student is the child of a staff member of this school: named members only.",
        notes=(
            DemoNote(
                Kind.CONTACT,
                "A parent called the counselor: her son received messages saying 'you'll regret this' after a breakup.",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "Met the student. She admits the messages, says she was angry and has no "
                "wish to hurt anyone; agreed to stop contact.",
            ),
        ),
        tasks=(DemoTask("Check with the other student about any further messages", due="soon"),),
        quiet=1,
    ),
    Story(
        JM,
        "Drawings of people being hurt, with teachers' names",
        "From a report in the triage queue: drawings of people being hurt, with teachers' names next to them.",
        opened=1.9,
        stage=E,
        manager="leader",
        intake=(5,),
        subject=False,
        screening="Violent drawings naming teachers: a concerning communication. A detailed evaluation is "
        "needed before any conclusion.",
        plan=PLANS["drawings"],
        notes=(
            DemoNote(
                Kind.RECORDS_REVIEW,
                "Attendance normal, no discipline this year, a counseling referral in 6th grade after a family loss.",
            ),
            DemoNote(
                Kind.INTERVIEW,
                "Met the student with the school psychologist. He says he draws 'what he "
                "sees in games'; he is angry at two teachers over grades.",
            ),
        ),
        tasks=(
            DemoTask("Interview the two teachers named in the notebook", due="soon"),
            DemoTask("Meet the parents", due="later"),
        ),
        thread=(
            (
                "Thank you for telling us. When did you see the notebook?",
                "On Tuesday in homeroom. He has had it all month.",
            ),
        ),
        quiet=0.3,
    ),
    # Screening ----------------------------------------------------------------------------------------------
    Story(
        JM,
        "Repeated pushing and name-calling after PE",
        "From a report in the triage queue: two older boys push a younger student into the lockers after PE "
        "almost every day.",
        opened=1.0,
        stage=S,
        manager="leader",
        intake=(4,),
        subject=False,
        people=(
            ("subject", "Older boy 1 (name not known yet)", "8th grade, PE 3rd period."),
            ("subject", "Older boy 2 (name not known yet)", "8th grade, PE 3rd period."),
        ),
        notes=(
            DemoNote(
                Kind.INTERVIEW,
                "Spoke with the younger student, his mother on the phone. It happens most "
                "days in the locker room after PE; he did not want to tell anyone.",
            ),
        ),
        tasks=(DemoTask("Ask the PE teacher to supervise the locker room after class", due="today"),),
        quiet=0.2,
    ),
    Story(
        CR,
        "Threatening messages in a gaming group chat",
        "A student reported messages in an online gaming group: a student said he would 'shoot up' the school "
        "if people kept kicking him from the group.",
        opened=1.5,
        stage=S,
        incoming=DemoIncoming(
            "A kid from our school wrote in our game chat that he is going to 'shoot up' the school if people "
            "keep kicking him from the group. He said it twice. He is in 10th grade I think.",
            how_known=HowKnown.ONLINE,
            weapon=YesNoUnknown.UNKNOWN,
        ),
        screening="A repeated statement of a plan to shoot, after a grievance (being excluded). When in doubt, "
        "treat it as substantive: a detailed evaluation is needed.",
        plan=PLANS["gaming-chat"],
        notes=(
            DemoNote(
                Kind.SOCIAL_MEDIA,
                "Looked at the screenshots a parent forwarded: two messages, two days "
                "apart, both right after he was removed from the group. No date, place or weapon named.",
                author="sro",
            ),
            DemoNote(Kind.CONTACT, "Left a message for the student's mother; asked her to call back today."),
        ),
        tasks=(
            DemoTask("Ask the reporter whether the messages are still in the chat", done=True),
            DemoTask("Call the mother back and set a meeting", due="overdue"),
        ),
        thread=(
            (
                "Thank you for telling us. Are the messages still in the chat, and did others see them?",
                "Yes they are still there. Most of the group saw them.",
            ),
        ),
        quiet=0.3,
    ),
    Story(
        AE,
        "A second grader's drawing and comments about a classmate",
        "A parent reports that a boy in her daughter's class keeps saying he will stab her with his pencil, "
        "and drew it.",
        opened=0.8,
        stage=S,
        manager="leader",
        target=True,
        incoming=DemoIncoming(
            "My daughter says a boy in her class keeps saying he will stab her with his pencil and drew a "
            "picture of it. She is scared to sit next to him.",
            reporter_role=ReporterRole.PARENT,
            how_known=HowKnown.TOLD,
        ),
        notes=(
            DemoNote(
                Kind.CONTACT,
                "Called the parent back. The comments happened three times this week at the "
                "reading table. The teacher has moved the children apart.",
            ),
        ),
        tasks=(DemoTask("Meet the teacher and the school counselor about both children", due="soon"),),
        thread=(
            (
                "Thank you for writing. The teacher has moved the children apart. Is your daughter ok today?",
                "She is better, thank you.",
            ),
        ),
        quiet=0.2,
    ),
    Story(
        JM,
        "A student says he wants to 'end' a teacher",
        "Staff referral: after a failing grade, a 7th grader told classmates he wants to 'end' his science teacher.",
        opened=0.6,
        stage=S,
        plan=PLANS["end-a-teacher"],
        manager="leader",
        incoming=DemoIncoming(
            "After getting his test back, the student told the table that he wants to 'end' his science teacher. Two "
            "students told me at the end of class.",
            reporter_role=ReporterRole.STAFF,
            how_known=HowKnown.TOLD,
            location="Science, 5th period",
            staff_referral=True,
        ),
        notes=(
            DemoNote(
                Kind.CONTACT,
                "Spoke with the teacher who referred it: the two students are willing to talk with the counselor.",
            ),
        ),
        tasks=(DemoTask("Interview the two students who heard it", due="today"),),
        quiet=0.1,
    ),
    # The intake demo's two reports about a gun at Friday's game (one carries the published demo
    # receipt code): a case opened minutes ago, in screening.
    Story(
        CR,
        "Threat to bring a gun to Friday's game",
        "Two reports a few minutes apart say a student said at lunch that he would bring his father's gun to "
        "Friday's game. Screening under way: the SRO is checking access to firearms at home.",
        opened=0.004,
        stage=S,
        intake=(0, 8),
        subject=False,
        notes=(
            DemoNote(
                Kind.OBSERVATION,
                "The student was brought to the office from 5th period. Calm and "
                "cooperative; says it was 'just talk' after an argument about the game.",
            ),
            DemoNote(
                Kind.CONTACT,
                "Called the student's father: the family owns one hunting rifle, kept in a "
                "locked safe. He is checking that it is there and will call back.",
                author="sro",
            ),
        ),
        tasks=(
            DemoTask("Interview the student with the assistant principal present", due="today"),
            DemoTask("Confirm the rifle is locked away; ask who has the key", assignee="sro", due="today"),
        ),
        thread=(("", "Two of my friends heard it too. He also said it on the bus this morning."),),
        quiet=0,
    ),
]
