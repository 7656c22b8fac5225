{*
 * Scheduled Reports tab: what Vtiger's cron mails out on its own. Each
 * schedule with its recipients resolved to addresses (external ones, outside
 * the company's mail domains, highlighted), format, next run and the recent
 * deliveries the tracker logged.
 *}
{strip}
<div class="dxt-schedules" id="DataExportTrackerSchedules">
	<p class="text-muted">
		{vtranslate('LBL_COMPANY_DOMAINS', $QUALIFIED_MODULE)}:&nbsp;
		{if $COMPANY_DOMAINS_TEXT neq ''}{$COMPANY_DOMAINS_TEXT|escape:'html'}{else}<span class="text-danger">{vtranslate('LBL_NO_COMPANY_DOMAINS', $QUALIFIED_MODULE)}</span>{/if}
		&nbsp;&middot;&nbsp;{vtranslate('LBL_TIMES_IN', $QUALIFIED_MODULE)} {$USER_TZ|escape:'html'}
	</p>
	<table class="table table-bordered listViewEntriesTable dxt-schedule-table">
		<thead>
			<tr class="listViewHeaders">
				<th>{vtranslate('LBL_REPORT', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_SCHEDULE', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_FORMAT', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_NEXT_RUN', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_RECIPIENTS', $QUALIFIED_MODULE)}</th>
				<th>{vtranslate('LBL_RECENT_DELIVERIES', $QUALIFIED_MODULE)}</th>
			</tr>
		</thead>
		<tbody>
			{foreach from=$SCHEDULES item=S}
				<tr class="listViewEntries{if $S.external_recipients gt 0} dxt-has-external{/if}" data-report-id="{$S.report_id}">
					<td>
						<strong>{if isset($S.report_name)}{$S.report_name|escape:'html'}{else}#{$S.report_id}{/if}</strong>
						{if $S.module}<div class="text-muted dxt-sub">{vtranslate($S.module, $S.module)|escape:'html'}</div>{/if}
						{if $S.owner}<div class="text-muted dxt-sub">{vtranslate('LBL_OWNER', $QUALIFIED_MODULE)}: {$S.owner|escape:'html'}</div>{/if}
					</td>
					<td>
						{vtranslate("LBL_SCHEDULE_`$S.schedule.type`", $QUALIFIED_MODULE)|escape:'html'}
						{if $S.schedule.weekdays}<div class="dxt-sub">
							{foreach from=$S.schedule.weekdays item=D name=wd}{vtranslate("LBL_WEEKDAY_`$D`", $QUALIFIED_MODULE)|escape:'html'}{if !$smarty.foreach.wd.last}, {/if}{/foreach}
						</div>{/if}
						{if $S.schedule.month_days_text neq ''}<div class="dxt-sub">{vtranslate('LBL_DAYS', $QUALIFIED_MODULE)}: {$S.schedule.month_days_text|escape:'html'}</div>{/if}
						{if $S.schedule.annual_dates_text neq ''}<div class="dxt-sub">{$S.schedule.annual_dates_text|escape:'html'}</div>{/if}
						{if $S.schedule.date neq ''}<div class="dxt-sub">{$S.schedule.date|escape:'html'}</div>{/if}
						{if $S.schedule.time neq ''}<div class="dxt-sub">{vtranslate('LBL_AT', $QUALIFIED_MODULE)} {$S.schedule.time|escape:'html'}</div>{/if}
					</td>
					<td>{$S.format|escape:'html'}</td>
					<td class="dxt-when">{$S.next_run|escape:'html'}</td>
					<td>
						{if $S.recipients_error}<div class="text-danger">{$S.recipients_error|escape:'html'}</div>{/if}
						<ul class="list-unstyled dxt-recipients">
							{foreach from=$S.recipients item=R}
								<li class="{if $R.external}dxt-external{/if}">
									{if $R.name neq ''}{$R.name|escape:'html'} &lt;{$R.email|escape:'html'}&gt;{else}{$R.email|escape:'html'}{/if}
									{if $R.external}&nbsp;<span class="label label-danger">{vtranslate('LBL_EXTERNAL', $QUALIFIED_MODULE)}</span>{/if}
									<div class="text-muted dxt-sub">{$R.via|escape:'html'}</div>
								</li>
							{foreachelse}
								<li class="text-muted">{vtranslate('LBL_NO_RECIPIENTS', $QUALIFIED_MODULE)}</li>
							{/foreach}
						</ul>
					</td>
					<td>
						<ul class="list-unstyled dxt-deliveries">
							{foreach from=$S.recent item=EV}
								<li>
									<span class="dxt-when">{$EV.when|escape:'html'}</span>
									{if isset($EV.record_count)}&nbsp;&middot;&nbsp;{$EV.record_count} {vtranslate('LBL_RECORDS', $QUALIFIED_MODULE)}{/if}
									{if $EV.external_recipients gt 0}&nbsp;<span class="label label-danger">{$EV.external_recipients} {vtranslate('LBL_EXTERNAL', $QUALIFIED_MODULE)}</span>{/if}
									{if $EV.download_url neq ''}&nbsp;<a class="dxt-download" href="{$EV.download_url}" title="{vtranslate('LBL_DOWNLOAD', $QUALIFIED_MODULE)}"><i class="fa fa-download"></i></a>{/if}
								</li>
							{foreachelse}
								<li class="text-muted">{vtranslate('LBL_NO_DELIVERIES', $QUALIFIED_MODULE)}</li>
							{/foreach}
						</ul>
					</td>
				</tr>
			{foreachelse}
				<tr><td colspan="6" class="text-center text-muted">{vtranslate('LBL_NO_SCHEDULES', $QUALIFIED_MODULE)}</td></tr>
			{/foreach}
		</tbody>
	</table>
</div>
{/strip}
